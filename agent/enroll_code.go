package agent

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// CleanCode is the enrollment code as the agent sends it: what pasting it
// adds removed (syncproto.CleanEnrollCode, the server's own cleaning). A
// code changed by a Vietnamese input method is not sent (every code the
// server refuses counts toward its limit of wrong codes): it is an
// *InputMethodError.
func CleanCode(code string) (string, error) {
	c := syncproto.CleanEnrollCode(code)
	var viet []string
	for _, r := range c {
		if r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)) {
			viet = append(viet, string(r))
		}
	}
	if len(viet) > 0 {
		return "", &InputMethodError{Code: strings.TrimSpace(code), Letters: viet}
	}
	return c, nil
}

// InputMethodError: the code holds Vietnamese letters (Đ, Ư, Á; À): the
// Vietnamese input method (Unikey, EVKey; Telex or VNI) was on while it
// was typed and turned DD, W, AS or A2 into them. Codes are ASCII letters
// and digits only. The code was not sent.
type InputMethodError struct {
	Code    string
	Letters []string
}

func (e *InputMethodError) Error() string {
	return fmt.Sprintf("agent: the enrollment code %q holds Vietnamese letters (%s): typed with the Vietnamese input method on", e.Code, strings.Join(e.Letters, " "))
}

func (e *InputMethodError) Message(lang string) string {
	l := strings.Join(e.Letters, " ")
	return pick(lang,
		fmt.Sprintf("Mã %s có chữ tiếng Việt (%s): bộ gõ tiếng Việt (Unikey/EVKey, kiểu Telex hoặc VNI) đã đổi các chữ của mã khi gõ. Hãy tắt bộ gõ tiếng Việt (bấm Ctrl+Shift, hoặc bấm vào biểu tượng V ở góc màn hình cho thành E) rồi gõ lại mã. Mã chỉ gồm chữ cái không dấu và chữ số. Mã chưa được gửi đi nên không bị tính là nhập sai.", e.Code, l),
		fmt.Sprintf("The code %s holds Vietnamese letters (%s): the Vietnamese keyboard (Unikey/EVKey, Telex or VNI) changed the code's letters as it was typed. Switch the Vietnamese keyboard off (press Ctrl+Shift, or click the V icon in the corner of the screen so it shows E), then type the code again. A code is plain letters and digits only. It was not sent, so it does not count as a wrong try.", e.Code, l))
}

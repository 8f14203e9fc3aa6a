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
	if c, ok := codeInLine(code); ok {
		return c, nil
	}
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

// codeInLine finds the code in a whole line pasted from a chat ("Mã đăng
// ký: FDQH-7LU9", "mã của anh là FDQH 7LU9 nhé"): a word of eight letters
// and digits, or two adjacent words of four, when there is exactly one.
// A line holding no such word, or several, is cleaned as a code.
func codeInLine(s string) (string, bool) {
	words := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == ',' })
	if len(words) < 2 {
		return "", false
	}
	plain := func(w string, n int) bool {
		if len(w) != n {
			return false
		}
		for i := 0; i < n; i++ {
			if c := w[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
		return true
	}
	clean := make([]string, len(words))
	for i, w := range words {
		clean[i] = syncproto.CleanEnrollCode(w)
	}
	var found []string
	for i, w := range clean {
		if plain(w, 8) {
			found = append(found, w)
		}
		if i+1 < len(clean) && plain(w, 4) && plain(clean[i+1], 4) {
			found = append(found, w+clean[i+1])
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

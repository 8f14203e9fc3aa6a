package agent

import (
	"fmt"
	"regexp"
	"slices"
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
//
// What is not eight symbols of the codes' alphabet is not sent either: it
// is a *CodeFormError. A code between brackets (<FDQH-7LU9>) or with its
// halves joined by _ / \ | or . (FDQH_7LU9) is the code inside.
func CleanCode(code string) (string, error) {
	spaced := strings.Map(func(r rune) rune {
		if strings.ContainsRune(codeSeparators, r) {
			return ' '
		}
		return r
	}, code)
	if c, ok := codeInGroups(spaced); ok {
		return c, nil
	}
	c, ok, line := codeInLine(spaced)
	if ok {
		return wellFormed(c)
	}
	if line {
		return "", &PasteCodeOnlyError{}
	}
	c = syncproto.CleanEnrollCode(spaced)
	if len(c) == 16 && c[:8] == c[8:] { // pasted twice into the field: FDQH-7LU9FDQH-7LU9
		c = c[:8]
	}
	var viet []string
	for _, r := range c {
		if r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)) {
			viet = append(viet, string(r))
		}
	}
	if len(viet) > 0 {
		return "", &InputMethodError{Code: strings.TrimSpace(code), Letters: viet}
	}
	return wellFormed(c)
}

// codeInGroups is the code typed alone in its groups, as it is written
// (FDQH-7LU9) and read out: its halves kept (FDQH 7LU9), by pairs (FD QH
// 7L U9), by four and two and two (FDQH 7L U9, FD QH 7LU9), spaces or
// dashes between the groups, in capitals or not. Whatever its letters,
// such a string is a code the server may have issued (one code in ten has
// no digit, and its pairs are often syllables: QF RY XYEE), so it is
// always taken, never refused as a phrase. A phrase typed in capitals
// without its marks that breaks the halves (MA DANG KY: two, four and
// two) is not in its groups, and is left to codeInLine.
func codeInGroups(s string) (string, bool) {
	groups := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '\u2212'
	})
	if len(groups) == 0 || len(groups) > 4 {
		return "", false
	}
	var all strings.Builder
	halves := len(groups) == 1
	for _, g := range groups {
		g = syncproto.CleanEnrollCode(g)
		if len(groups) > 1 && len(g) != 2 && len(g) != 4 {
			return "", false
		}
		all.WriteString(g)
		halves = halves || all.Len() == 4
	}
	c := all.String()
	if !halves || c == "XXXXXXXX" || len(c) != 8 || strings.ContainsFunc(c, func(r rune) bool { return !strings.ContainsRune(syncproto.EnrollCodeAlphabet, r) }) {
		return "", false
	}
	return c, true
}

// codeSeparators stand clearly apart from a code's symbols, none of which
// they are: brackets around it, and what joins its halves in place of the
// dash when a chat or a document wrote it so (FDQH_7LU9, FDQH/7LU9,
// FDQH.7LU9).
const codeSeparators = "_/\\|.<>[]{}«»‹›"

// wellFormed is c, cleaned, if it is eight symbols of the codes' alphabet
// and not the placeholder XXXX-XXXX; a *CodeFormError if not, which the
// server would refuse, counting it toward the address's limit of wrong
// codes.
func wellFormed(c string) (string, error) {
	if c == "XXXXXXXX" {
		return "", &CodeFormError{Placeholder: true}
	}
	if len(c) != 8 || strings.ContainsFunc(c, func(r rune) bool { return !strings.ContainsRune(syncproto.EnrollCodeAlphabet, r) }) {
		return "", &CodeFormError{}
	}
	return c, nil
}

// CodeFormError: what was given as the code is not one (not eight letters
// and digits of the codes' alphabet, or the placeholder XXXX-XXXX). It was
// not sent.
type CodeFormError struct {
	Placeholder bool
}

func (e *CodeFormError) Error() string {
	if e.Placeholder {
		return "agent: the enrollment code given is the placeholder XXXX-XXXX"
	}
	return "agent: the enrollment code given is not 8 symbols of the codes' alphabet"
}

func (e *CodeFormError) Message(lang string) string {
	if e.Placeholder {
		return pick(lang,
			"XXXX-XXXX chỉ là mẫu cho biết mã trông thế nào, không phải mã. Hãy nhập mã đăng ký thật mà tổ trưởng hoặc cán bộ CNTT đã gửi (8 ký tự, ví dụ FDQH-7LU9). Mã chưa được gửi đi nên không bị tính là nhập sai.",
			"XXXX-XXXX only shows what a code looks like; it is not a code. Enter the real enrollment code your team leader or IT staff sent you (8 symbols, e.g. FDQH-7LU9). It was not sent, so it does not count as a wrong try.")
	}
	return pick(lang,
		"Đây không phải là một mã đăng ký. Mã đăng ký gồm 8 ký tự, dạng XXXX-XXXX (ví dụ FDQH-7LU9): chữ cái không dấu và chữ số, không có chữ O, I và số 0, 1. Hãy nhập đúng mã mà tổ trưởng hoặc cán bộ CNTT đã gửi (qua Zalo hoặc tin nhắn). Mã chưa được gửi đi nên không bị tính là nhập sai.",
		"This is not an enrollment code. A code is 8 symbols, as XXXX-XXXX (e.g. FDQH-7LU9): plain letters and digits, with no letter O or I and no digit 0 or 1. Enter the code your team leader or IT staff sent you (by Zalo or text message). It was not sent, so it does not count as a wrong try.")
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
// ký: FDQH-7LU9", "nhap code FDQH 7LU9 nhe", the server's own "Enrollment
// code: FDQH-7LU9 (one-time, expires 2026-12-06 …)"): a word of eight
// symbols of the codes' alphabet (which has no 0, 1, I or O, so that dates,
// years and most names are none), or two adjacent words of four, a lone
// dash between them allowed; one written with its dash first. ok is false
// when the line holds none or several, and whether it is a line at all
// (more than two words) is said by line.
func codeInLine(s string) (code string, ok, line bool) {
	var words []string
	var labelled []bool // the word is the first after a colon: what a label ("Mã đăng ký:") names
	for j, part := range strings.Split(s, ":") {
		first := j > 0
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '(' || r == ')' }) {
			if c := syncproto.CleanEnrollCode(w); c != "" {
				words = append(words, w)
				labelled = append(labelled, first)
				first = false
			}
		}
	}
	line = len(words) > 2
	if len(words) < 2 {
		return "", false, line
	}
	symbols := func(w string, n int) bool {
		if len(w) != n {
			return false
		}
		for i := 0; i < n; i++ {
			if !strings.ContainsRune(syncproto.EnrollCodeAlphabet, rune(w[i])) {
				return false
			}
		}
		return true
	}
	var dashed, plain []string
	for i, w := range words {
		c := syncproto.CleanEnrollCode(w)
		if symbols(c, 8) {
			if strings.ContainsAny(w, "-‐‑–—−") {
				dashed = append(dashed, c)
			}
			plain = append(plain, c)
		}
		next := ""
		if i+1 < len(words) {
			next = syncproto.CleanEnrollCode(words[i+1])
		}
		// Two words of four in a line are the code, unless both are
		// syllables of a phrase typed without its marks ("chua nhan duoc
		// ma"): only a code's halves can lack a vowel or hold a digit. Right
		// after a label's colon they are the code whatever they spell
		// ("Mã đăng ký: RYAT HYEN", a real code).
		if symbols(c, 4) && symbols(next, 4) && !(line && syllable(c) && syllable(next) && !labelled[i]) {
			plain = append(plain, c+next)
		}
	}
	dashed, plain = slices.Compact(slices.Sorted(slices.Values(dashed))), slices.Compact(slices.Sorted(slices.Values(plain))) // the code pasted twice is one
	switch {
	case len(dashed) == 1:
		return dashed[0], true, line
	case len(plain) == 1:
		return plain[0], true, line
	}
	// The code typed alone with spaces where they fall (FDQ H7LU 9): short
	// words whose symbols are eight, one a digit at least. Typed in its
	// groups, digits or not, it was taken before (codeInGroups); a phrase
	// typed without its marks across the halves ("MA DANG KY") is none and
	// not sent.
	var all strings.Builder
	short := true
	for _, w := range words {
		c := syncproto.CleanEnrollCode(w)
		all.WriteString(c)
		short = short && utf8.RuneCountInString(c) <= 4
	}
	if symbols(all.String(), 8) && short && strings.ContainsAny(all.String(), "23456789") {
		return all.String(), true, line
	}
	// Short words with Vietnamese letters are a code typed with Telex on
	// (đư 3ấ k7 mn), told as such: not a line.
	viet := strings.ContainsFunc(all.String(), func(r rune) bool { return r >= utf8.RuneSelf })
	return "", false, line && !(short && viet)
}

// syllable: a word (cleaned, in capitals) that could be a Vietnamese
// syllable typed without its marks: an initial consonant or none, one to
// three vowels, a final consonant or none, as Vietnamese is spelt (MA,
// DANG, KY, CHUA, NHAN, NGHE). Most of a code's pairs and halves are not
// (TEHZ, UQJP, UZ, EW: F, J, W, Z and most consonants together are no
// Vietnamese); a vowel alone is not enough.
func syllable(w string) bool {
	return vietSyllable.MatchString(w)
}

var vietSyllable = regexp.MustCompile(`^(NGH|NG|GH|GI|KH|NH|PH|QU|TH|TR|CH|[BCDGHKLMNPRSTVX])?[AEIOUY]{1,3}(CH|NG|NH|[CMNPT])?$`)

// PasteCodeOnlyError: a line of several words was given as the code, and
// no one code could be told in it. Nothing was sent.
type PasteCodeOnlyError struct{}

func (e *PasteCodeOnlyError) Error() string {
	return "agent: no one enrollment code in the text given"
}

func (e *PasteCodeOnlyError) Message(lang string) string {
	return pick(lang,
		"Không tìm thấy một mã đăng ký trong dòng đã nhập. Hãy nhập riêng mã (8 ký tự, dạng XXXX-XXXX, chỉ gồm chữ cái không dấu và chữ số), không kèm chữ khác. Mã chưa được gửi đi nên không bị tính là nhập sai.",
		"No one enrollment code could be told in the text given. Enter the code alone (8 symbols, as XXXX-XXXX, plain letters and digits only), without other words. It was not sent, so it does not count as a wrong try.")
}

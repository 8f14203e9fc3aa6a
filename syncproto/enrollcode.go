package syncproto

import (
	"strings"
	"unicode"
)

// EnrollCodeAlphabet is the symbols of an enrollment code (eight of them,
// written XXXX-XXXX): no 0/O, no 1/I, which a person confuses reading a
// code aloud or off a screen.
const EnrollCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// CleanEnrollCode removes from an enrollment code what copying it from a
// chat (Zalo), an e-mail or a document adds around or inside its symbols,
// and upper-cases the rest: invisible characters (zero-width space, word
// joiner, byte-order mark, soft hyphen), spaces of any kind (the no-break
// space), dashes of any kind (‐ ‑ – — −), straight or curly quotes, emoji
// (with their modifiers and variation selectors), and
// punctuation before or after the code (a sentence's period). What is
// left is the code's symbols alone ("ABCDEF23" for " “abcd–ef23”. "). Any
// other character is kept, so that a code that is not one stays one. The
// server (normalizeCode) and the agent clean a code alike: the agent
// before it sends it, the server for any client.
func CleanEnrollCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r), unicode.IsSpace(r), unicode.Is(unicode.Pd, r), r == '\u2212',
			unicode.Is(unicode.Quotation_Mark, r),
			unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r), unicode.Is(unicode.Variation_Selector, r): // an emoji stuck to the code
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return strings.TrimFunc(b.String(), unicode.IsPunct)
}

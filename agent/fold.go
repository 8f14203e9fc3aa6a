package agent

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold reduces Vietnamese text to what a volunteer types on a keyboard
// without an input method: lowercase, no tone or vowel marks, đ as d. Search
// compares folded strings, so "Nguyễn Văn Đức" matches "nguyen van duc".
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case 'đ', 'Đ':
			return 'd'
		}
		return unicode.ToLower(r)
	}, out)
}

package agent

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold reduces Vietnamese text to what a volunteer types on a keyboard
// without an input method: lowercase, no tone or vowel marks, đ as d. Search
// compares folded strings, so "Nguyễn Văn Đức" matches "nguyen van duc".
//
// A search folds every household's search text (Search): letters up to the Latin
// Extended Additional block (all of Vietnamese, precomposed or with
// combining marks) go through a table made once from foldSlow; any other
// text takes foldSlow itself, so the result is the same.
func Fold(s string) string {
	tab := foldTable()
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= foldTableSize || r == utf8.RuneError {
			return foldSlow(s)
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(tab[r])
		i += n
	}
	return b.String()
}

// foldTableSize covers Latin-1, Latin Extended-A and -B, the combining
// marks and Latin Extended Additional (ạ ả ấ ầ ẩ ẫ ậ ... ỹ).
const foldTableSize = 0x1F00

var foldTable = sync.OnceValue(func() []string {
	t := make([]string, foldTableSize)
	chain := foldChain()
	for r := rune(0); r < foldTableSize; r++ {
		if r < utf8.RuneSelf {
			t[r] = strings.ToLower(string(r))
			continue
		}
		t[r] = foldWith(chain, string(r))
	}
	return t
})

// foldSlow is Fold by Unicode decomposition: decompose, drop the marks,
// recompose, lowercase, đ as d.
func foldSlow(s string) string { return foldWith(foldChain(), s) }

// foldChain is the decomposition foldSlow runs. Making one allocates
// buffers of some kilobytes: the table, which folds 7,936 runes, makes it
// once (a transformer is reset at each use), which took its build from
// about 270 ms to a few milliseconds; fold_test checks the table against
// foldSlow rune by rune.
func foldChain() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

func foldWith(t transform.Transformer, s string) string {
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

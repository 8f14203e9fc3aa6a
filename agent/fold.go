package agent

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/schema"
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
		case 'đ', 'Đ', 'ð', 'Ð': // Ð (U+00D0): Đ as some fonts and converted spreadsheets write it
			return 'd'
		}
		return unicode.ToLower(r)
	}, out)
}

// SearchWords are the words a search for query matches, each a substring
// of a household's folded text (FoldHousehold): query folded and split at
// spaces, with a phone number written as people write it ("0912.345.678",
// "+84 912 345 678") in the form the number is stored (0912345678).
func SearchWords(query string) []string {
	words := strings.Fields(Fold(query))
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); {
		// The longest run of digit words from here that reads as a phone.
		j := i
		for j < len(words) && phonish(words[j]) {
			j++
		}
		found := false
		for k := j; k > i; k-- {
			if p, err := schema.NormalizePhone(strings.Join(words[i:k], " ")); err == nil {
				out = append(out, p)
				i, found = k, true
				break
			}
		}
		if found {
			continue
		}
		// Any other word as typed: "12.5" is a kilometre of an address,
		// "32002-01" a hamlet's code.
		out = append(out, words[i])
		i++
	}
	return out
}

// phonish: w is made of digits, dots, dashes and a leading +.
func phonish(w string) bool {
	for i, r := range w {
		switch {
		case '0' <= r && r <= '9', r == '.', r == '-':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return w != ""
}

// toneKey writes each word of s with its tone mark after the word, out of
// its letters, so that where the tone sits does not matter: "thủy" and
// "thuỷ", "hòa" and "hoà" give one key, "hoa" and "hòa" two. The vowel
// marks (â ă ê ô ơ ư) and đ stay: they are letters. Ð and ð (U+00D0/F0),
// as some fonts write Đ and đ, count as them.
func toneKey(s string) string {
	d := norm.NFD.String(strings.NewReplacer("Ð", "Đ", "ð", "đ").Replace(s))
	var b, tones strings.Builder
	flush := func() {
		b.WriteString(tones.String())
		tones.Reset()
	}
	for _, r := range d {
		switch r {
		case 0x0300, 0x0301, 0x0303, 0x0309, 0x0323: // grave, acute, tilde, hook above, dot below
			tones.WriteByte(0x01) // a key's own sign: never recomposed into a letter
			tones.WriteByte(byte(r - 0x0300))
			continue
		}
		if unicode.IsSpace(r) {
			flush()
		}
		b.WriteRune(r)
	}
	flush()
	return norm.NFC.String(b.String())
}

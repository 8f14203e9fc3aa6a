package agent

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Real codes, made as the server makes them (eight symbols of the codes'
// alphabet, XXXX-XXXX), in each form a volunteer sends them, are taken:
// none is refused by the checks that keep a phrase typed in capitals
// ("MA DANG KY") from being sent as a code, not even those whose every
// pair is a syllable ("HE EA KA BY", "QF RY XYEE"): a code typed in its
// groups is always taken (codeInGroups).
func TestCleanCodeTakesRealCodesInEveryForm(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(173))
	gen := func() string {
		var b [8]byte
		rng.Read(b[:])
		out := make([]byte, 0, 9)
		for i, x := range b {
			if i == 4 {
				out = append(out, '-')
			}
			out = append(out, syncproto.EnrollCodeAlphabet[x&31])
		}
		return string(out)
	}
	fours := func(c string) string { return strings.ReplaceAll(c, "-", " ") }
	pairs := func(c string) string {
		p := strings.ReplaceAll(c, "-", "")
		return p[0:2] + " " + p[2:4] + " " + p[4:6] + " " + p[6:8]
	}
	forms := []struct {
		name string
		f    func(string) string
	}{
		{"dashed", func(c string) string { return c }},
		{"lowercase", strings.ToLower},
		{"plain", func(c string) string { return strings.ReplaceAll(c, "-", "") }},
		{"fours", fours},
		{"fours lowercase", func(c string) string { return strings.ToLower(fours(c)) }},
		{"pairs", pairs},
		{"in a line", func(c string) string { return "Mã đăng ký: " + c }},
		{"fours in a line", func(c string) string { return "Mã đăng ký: " + fours(c) }},
		{"fours in a line in capitals", func(c string) string { return "MA DANG KY: " + fours(c) }},
		{"fours in a line lowercase", func(c string) string { return "ma dang ky: " + strings.ToLower(fours(c)) }},
		{"the server's line", func(c string) string {
			return "Mã đăng ký: " + c + "  (dùng một lần, hết hạn 06/12/2026 09:45 (UTC+7))"
		}},
		{"in brackets", func(c string) string { return "(" + c + ")" }},
		{"pairs lowercase", func(c string) string { return strings.ToLower(pairs(c)) }},
		{"four two two", func(c string) string { p := pairs(c); return p[:2] + p[3:] }},
		{"two two four", func(c string) string { p := pairs(c); return p[:8] + p[9:] }},
		{"two two four lowercase", func(c string) string { p := strings.ToLower(pairs(c)); return p[:8] + p[9:] }},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			for i := 0; i < 20000; i++ {
				c := gen()
				want := strings.ReplaceAll(c, "-", "")
				in := f.f(c)
				got, err := CleanCode(in)
				require.NoError(t, err, "%q", in)
				require.Equal(t, want, got, "%q", in)
			}
		})
	}
}

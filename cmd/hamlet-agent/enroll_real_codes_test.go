package main

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 212: a real code typed as a volunteer copies it from paper or a
// chat, in capitals by two, two and four ("QF RY XYEE"), was refused as a
// phrase before it was sent: its pairs and four were syllables (RY, XYEE),
// as in "NHAP MA DK". A volunteer holding a valid code could not enroll,
// and TestEnrollAPhraseInCapitalsIsNotSent failed when it drew such a code.
// Every code the server issues, typed in its groups (halves kept, pairs,
// four and two and two), in capitals or lower case, with spaces or dashes,
// with spaces around, or after a label ("Mã đăng ký: RYAT HYEN"), is sent; phrases (MA DANG KY: its halves broken;
// longer lines) still are not; a code changed by the Vietnamese keyboard
// is told as such.
func TestEnrollRealCodesTypedByHandAreSent(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	nospace := func(c string) string { return strings.ReplaceAll(c, "-", "") }
	pairs := func(c string, sep string) string {
		p := nospace(c)
		return p[0:2] + sep + p[2:4] + sep + p[4:6] + sep + p[6:8]
	}
	forms := []struct {
		name string
		f    func(string) string
	}{
		{"dashed", func(c string) string { return c }},
		{"lower case", strings.ToLower},
		{"plain", nospace},
		{"fours", func(c string) string { return strings.ReplaceAll(c, "-", " ") }},
		{"pairs", func(c string) string { return pairs(c, " ") }},
		{"pairs lower case", func(c string) string { return strings.ToLower(pairs(c, " ")) }},
		{"pairs dashed", func(c string) string { return pairs(c, "-") }},
		{"four two two", func(c string) string { p := nospace(c); return p[:4] + " " + p[4:6] + " " + p[6:] }},
		{"two two four", func(c string) string { p := nospace(c); return p[:2] + " " + p[2:4] + " " + p[4:] }},
		{"two two four lower case", func(c string) string { p := strings.ToLower(nospace(c)); return p[:2] + " " + p[2:4] + " " + p[4:] }},
		{"four dash two two", func(c string) string { p := nospace(c); return p[:4] + "-" + p[4:6] + " " + p[6:] }},
		{"spaces around", func(c string) string { return "  " + c + " " }},
		{"pairs, spaces around", func(c string) string { return " " + pairs(c, " ") + "  " }},
		{"fours after a label", func(c string) string { return "Mã đăng ký: " + strings.ReplaceAll(c, "-", " ") }},
		{"fours after a label in capitals", func(c string) string { return "MA DANG KY: " + strings.ReplaceAll(c, "-", " ") }},
		{"fours after a label lower case", func(c string) string { return "ma dang ky: " + strings.ToLower(strings.ReplaceAll(c, "-", " ")) }},
	}
	// 2,000 codes from the server's own generator, each form checked by
	// what the binary runs before it sends a code (agent.CleanCode).
	codes := make([]string, 2000)
	for i := range codes {
		codes[i] = ts.EnrollCode(t, ts.TeamA)
	}
	type refused struct{ form, in string }
	var bad []refused
	for _, c := range codes {
		for _, f := range forms {
			in := f.f(c)
			got, err := agent.CleanCode(in)
			if err != nil || got != nospace(c) {
				bad = append(bad, refused{f.name, in})
			}
		}
	}
	// Each refused one, and a code in each form, is enrolled through the
	// binary against the server: a fresh code for each, as the one that was
	// refused has the same shape.
	fresh := func() string { return ts.EnrollCode(t, ts.TeamA) }
	root := t.TempDir()
	n := 0
	laptop := func() *laptop { n++; return newLaptop(t, filepath.Join(root, strconv.Itoa(n))) }
	for i, b := range bad {
		if i == 10 {
			break
		}
		t.Run("refused "+b.form+" "+b.in, func(t *testing.T) {
			r := laptop().run("enroll", "--server", ts.URL, "--code", b.in)
			require.Equal(t, 0, r.code, "the real code %q (%s) was not enrolled:\n%s", b.in, b.form, r.stderr)
		})
	}
	require.Empty(t, bad, "%d of %d real codes typed by hand refused before they were sent", len(bad), len(codes)*len(forms))
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			in := f.f(fresh())
			r := laptop().run("enroll", "--server", ts.URL, "--code", in)
			require.Equal(t, 0, r.code, "%q:\n%s", in, r.stderr)
		})
	}

	// Phrases are still not sent (the limit is one wrong code: a phrase
	// sent would leave the real code throttled), in Vietnamese and, with
	// --lang en, in English.
	for _, phrase := range []string{"MA DANG KY", "ma dang ky", "MA DANG KY NHE", "chua nhan duoc ma", "Chua nhan duoc ma nhe", "Mã đăng ký"} {
		for _, lang := range []string{"", "en"} {
			t.Run("phrase "+phrase+" "+lang, func(t *testing.T) {
				l := laptop()
				l.lang = lang
				r := l.run("enroll", "--server", ts.URL, "--code", phrase)
				require.NotEqual(t, 0, r.code, "%q", phrase)
				if lang == "en" {
					require.Contains(t, r.stderr, "It was not sent", "%q was sent as a code: %s", phrase, r.stderr)
				} else {
					require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q was sent as a code: %s", phrase, r.stderr)
				}
				l.must("enroll", "--server", ts.URL, "--code", fresh())
			})
		}
	}

	// A code typed with the Vietnamese keyboard on (Telex: EE is Ê, AA is
	// Â, DD is Đ, UW is Ư) is told as such, and not sent.
	telex := strings.NewReplacer("EE", "Ê", "AA", "Â", "DD", "Đ", "UW", "Ư", "AW", "Ă")
	var typed []string
	for _, c := range codes {
		for _, f := range forms[3:6] {
			in := f.f(c)
			tx := telex.Replace(strings.ToUpper(in))
			if tx == strings.ToUpper(in) {
				continue
			}
			_, err := agent.CleanCode(tx)
			var ime *agent.InputMethodError
			require.True(t, errors.As(err, &ime), "%q typed with Telex on: %v", tx, err)
			if len(typed) < 2 {
				typed = append(typed, tx)
			}
		}
	}
	for _, in := range typed {
		t.Run("telex "+in, func(t *testing.T) {
			r := laptop().run("enroll", "--server", ts.URL, "--code", in)
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, "bộ gõ tiếng Việt", "%q: %s", in, r.stderr)
			require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q: %s", in, r.stderr)
		})
	}
}

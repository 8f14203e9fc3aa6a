package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 167's review of 4d80bff: a line's two words of four are no code
// when both are syllables, and a syllable was any word with a vowel (A,
// E, U, Y) and no digit: one real code in thirty-six has two such halves
// (TEHZ UQJP, MHAP FBNU), and "Mã đăng ký: TEHZ UQJP" was refused, told
// as typed with the Vietnamese keyboard on; in pairs, TA HA UZ EW was
// refused too. A syllable is now as Vietnamese is spelt: such codes are
// taken, and phrases still are not (TestEnrollAPhraseInCapitalsIsNotSent).
func TestEnrollACodeWhoseHalvesHaveVowels(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	vowelled := func(w string) bool { return !strings.ContainsAny(w, "23456789") && strings.ContainsAny(w, "AEUY") }
	code := func() string {
		for {
			c := strings.ReplaceAll(ts.EnrollCode(t, ts.TeamA), "-", "")
			if vowelled(c[:4]) && vowelled(c[4:]) {
				return c
			}
		}
	}
	root := t.TempDir()
	for i, form := range []func(c string) string{
		func(c string) string { return "Mã đăng ký: " + c[:4] + " " + c[4:] },
		func(c string) string { return "ma dang ky: " + strings.ToLower(c[:4]+" "+c[4:]) },
		func(c string) string { return "nhap ma " + c[:4] + " " + c[4:] + " nhe" },
	} {
		in := form(code())
		t.Run(in, func(t *testing.T) {
			r := newLaptop(t, filepath.Join(root, strconv.Itoa(i))).run("enroll", "--server", ts.URL, "--code", in)
			require.Equal(t, 0, r.code, "%q: %s", in, r.stderr)
		})
	}
}

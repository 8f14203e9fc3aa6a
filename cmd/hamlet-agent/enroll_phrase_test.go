package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 164's review of d5b9fb1: a code without a digit typed in pairs
// (FD QH LU WX) is taken, but so was a phrase typed in capitals without
// its marks (MA DANG KY: 2, 4 and 2 letters of the codes' alphabet), and
// a line holding two words of four letters (chua nhan duoc ma) gave them
// as the code: each was sent, and counted toward the address's limit of
// wrong codes. With a limit of one wrong code, a phrase sent leaves the
// volunteer's real code refused as throttled. Helper 212: a phrase in a
// code's groups (DANG KY MA, NHAP MA DK: four, two and two) is sent, as a
// real code so typed (QF RY XYEE) was refused; the codes in their groups
// are any the server issues, not only those whose pairs are no syllable,
// so that this test no longer depends on the code it draws.
func TestEnrollAPhraseInCapitalsIsNotSent(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	root := t.TempDir()
	for i, phrase := range []string{"MA DANG KY", "ma dang ky", "MA DANG KY NHE", "chua nhan duoc ma", "Chua nhan duoc ma nhe"} {
		l := newLaptop(t, filepath.Join(root, strconv.Itoa(i)))
		r := l.run("enroll", "--server", ts.URL, "--code", phrase)
		require.NotEqual(t, 0, r.code, "%q", phrase)
		require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q was sent as a code: %s", phrase, r.stderr)
		l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	}
	// What d5b9fb1 took still is: a code without a digit, in its groups,
	// whatever its pairs (TA HA UZ EW, QF RY XYEE).
	digitless := func() string {
		for {
			if c := strings.ReplaceAll(ts.EnrollCode(t, ts.TeamA), "-", ""); !strings.ContainsAny(c, "23456789") {
				return c
			}
		}
	}
	for i, form := range []func(c string) string{
		func(c string) string { return c[:2] + " " + c[2:4] + " " + c[4:6] + " " + c[6:] },
		func(c string) string { return c[:4] + " " + c[4:6] + " " + c[6:] },
		func(c string) string { return c[:2] + " " + c[2:4] + " " + c[4:] },
	} {
		in := form(digitless())
		newLaptop(t, filepath.Join(root, "code"+strconv.Itoa(i))).must("enroll", "--server", ts.URL, "--code", in)
	}
}

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
// wrong codes. (NHAP MA DK, its halves kept and one word no syllable,
// still is: not told from a code.) With a limit of one wrong code, a phrase sent leaves the
// volunteer's real code refused as throttled.
func TestEnrollAPhraseInCapitalsIsNotSent(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	root := t.TempDir()
	for i, phrase := range []string{"MA DANG KY", "DANG KY MA", "MA DANG KY NHE", "chua nhan duoc ma", "Chua nhan duoc ma nhe"} {
		l := newLaptop(t, filepath.Join(root, strconv.Itoa(i)))
		r := l.run("enroll", "--server", ts.URL, "--code", phrase)
		require.NotEqual(t, 0, r.code, "%q", phrase)
		require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q was sent as a code: %s", phrase, r.stderr)
		l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	}
	// What d5b9fb1 took still is: a code without a digit, in pairs.
	digitless := func() string {
		for {
			c := strings.ReplaceAll(ts.EnrollCode(t, ts.TeamA), "-", "")
			// No digit, and a first pair without a vowel (A, E, U, Y), as
			// most codes without a digit have: all pairs with a vowel are
			// a phrase's syllables (MA DANG KY), and are not taken.
			if !strings.ContainsAny(c, "23456789") && !strings.ContainsAny(c[:2], "AEUY") {
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

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

// Helper 167: a code badly formed (in brackets, its halves joined by _ /
// or ., the placeholder XXXX-XXXX, words that are no code) was sent, and
// each counted toward the address's limit of wrong codes: with a limit of
// one, the volunteer's real code was then refused as throttled. Where the
// separator is clear the code inside is taken; anything else that is not
// eight symbols of the codes' alphabet is refused before it is sent,
// saying what a code looks like.
func TestEnrollABadlyFormedCodeIsNotSent(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	root := t.TempDir()
	for i, in := range []string{"XXXX-XXXX", "xxxx-xxxx", "xin ma", "HA NAM", "FDQH-7LU0", "FDQ-7LU9", "FDQH7LU9K", "ABCD", "?"} {
		t.Run(in, func(t *testing.T) {
			l := newLaptop(t, filepath.Join(root, strconv.Itoa(i)))
			r := l.run("enroll", "--server", ts.URL, "--code", in)
			require.NotEqual(t, 0, r.code, "%q", in)
			require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q was sent as a code: %s", in, r.stderr)
			require.Contains(t, r.stderr, "XXXX-XXXX", "%q: the message says what a code looks like: %s", in, r.stderr)
			l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA)) // no wrong try counted
		})
	}
	l := newLaptop(t, filepath.Join(root, "en"))
	l.lang = "en"
	r := l.run("enroll", "--server", ts.URL, "--code", "xin ma")
	require.Contains(t, r.stderr, "It was not sent", r.stderr)
	// The code inside clear separators is the code.
	for i, form := range []func(c string) string{
		func(c string) string { return "<" + c + ">" },
		func(c string) string { return "[" + c + "]" },
		func(c string) string { return strings.ReplaceAll(c, "-", "_") },
		func(c string) string { return strings.ReplaceAll(c, "-", "/") },
		func(c string) string { return strings.ReplaceAll(c, "-", ".") },
		func(c string) string { return "Mã đăng ký: <" + c + ">" },
	} {
		in := form(ts.EnrollCode(t, ts.TeamA))
		t.Run(in, func(t *testing.T) {
			r := newLaptop(t, filepath.Join(root, "ok"+strconv.Itoa(i))).run("enroll", "--server", ts.URL, "--code", in)
			require.Equal(t, 0, r.code, "%q: %s", in, r.stderr)
		})
	}
}

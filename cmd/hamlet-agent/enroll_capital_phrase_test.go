package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 170 of ef2fc63: a phrase typed in capitals without its marks whose
// letters make eight symbols of the codes' alphabet, by four, two and two
// ("NHAP MA DK", "NHAN MA DK": type the code, receive the code), is sent as
// a code, counts as a wrong try, and the real code is then throttled.
func TestEnrollCapitalPhraseNotSent(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	for i, in := range []string{"NHAP MA DK", "NHAN MA DK"} {
		l := newLaptop(t, filepath.Join(t.TempDir(), string(rune('a'+i))))
		r := l.run("enroll", "--server", ts.URL, "--code", in)
		require.Contains(t, r.stderr, "Mã chưa được gửi đi", "%q was sent as a code: %s", in, r.stderr)
		r = l.run("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, 0, r.code, "the real code after %q: %s", in, r.stderr)
	}
}

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 170 of ef2fc63 kept "NHAP MA DK" and "NHAN MA DK" (type the code,
// receive the code), typed in capitals without marks, from being sent: by
// four, two and two, two of its words syllables. Helper 212: so were real
// codes read out so (QF RY XYEE, LS GA EYAN), and a volunteer holding one
// could not enroll. Eight symbols of the codes' alphabet in a code's groups
// are a code the server may issue: they are sent, and the server's answer
// says the code is wrong (one wrong try) instead of locking out a real one.
func TestEnrollCapitalPhraseInACodesGroupsIsSent(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	for i, in := range []string{"NHAP MA DK", "NHAN MA DK"} {
		l := newLaptop(t, filepath.Join(t.TempDir(), string(rune('a'+i))))
		r := l.run("enroll", "--server", ts.URL, "--code", in)
		require.NotEqual(t, 0, r.code, "%q", in)
		require.NotContains(t, r.stderr, "Mã chưa được gửi đi", "%q was not sent: %s", in, r.stderr)
		l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	}
}

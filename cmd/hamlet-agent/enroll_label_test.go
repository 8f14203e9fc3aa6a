package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A label the server refuses (a pasted tab, since 3b1512d; over 100
// characters, before) was told as "a value is invalid, fix it and sync
// again": not naming the label, and telling a laptop not enrolled to sync
// (helper 130's review). The agent checks the label as the server does and
// says what to change; the code is not used up.
func TestEnrollRefusedLabelIsToldAsTheLabel(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	code := ts.EnrollCode(t, ts.TeamA)
	for _, tc := range []struct{ lang, label, sync string }{
		{"en", "name (--label)", "sync"},
		{"vi", "Tên máy (--label)", "đồng bộ"},
	} {
		l.lang = tc.lang
		r := l.run("enroll", "--server", ts.URL, "--code", code, "--label", "Máy\tchị Lan")
		require.Equal(t, exitError, r.code, r.stderr)
		require.Contains(t, r.stderr, tc.label, "%s: the volunteer is told the label is at fault", tc.lang)
		require.NotContains(t, r.stderr, tc.sync, "%s: not enrolled, nothing to sync", tc.lang)
	}
	l.lang = ""
	l.must("enroll", "--server", ts.URL, "--code", code, "--label", "Máy chị Lan")
}

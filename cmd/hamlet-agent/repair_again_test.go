package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A repair that salvaged a replica whose enrollment was damaged, and was
// killed before it printed so (the lid closed), leaves a sound file that
// is not enrolled. The volunteer runs repair again, as before: it found
// nothing damaged and said only that, so the next sync failed "not
// enrolled" (TestFaultInjectionLoop, damaged replica, seed
// 1796344581733233185). Run again, repair says what is left to do.
func TestRepairAgainAfterALostEnrollmentSaysToEnroll(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	id := l.mustAdd(ts.HamletsA[0], "Hộ chờ gửi")
	file := filepath.Join(l.dir, "replica.db")
	damage(t, file, (pagesOf(t, file, "agent_meta", "leaf")[0]-1)*4096, 4096)

	first := l.must("repair", "--offline") // its output lost with the lid
	require.Contains(t, first.stderr, "hamlet-agent enroll", "the enrollment was in the damaged page")

	for _, lang := range []string{"vi", "en"} {
		r := l.must("repair", "--lang", lang)
		require.Contains(t, r.stderr, "hamlet-agent enroll", "repair run again (%s):\n%s%s", lang, r.stdout, r.stderr)
	}
	r := l.run("sync")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "hamlet-agent enroll")

	l.enroll(ts)
	l.must("sync")
	requireOnServer(t, ts, []string{id})
	r = l.must("repair")
	require.NotContains(t, r.stdout+r.stderr, "enroll", "an enrolled laptop is told nothing of enrolling")
}

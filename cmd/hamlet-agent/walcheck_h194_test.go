package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWALCheckIdleSyncFsyncs (helper 194): the fsyncs of an idle sync,
// counted with strace (skipped without it). A write transaction that
// changed nothing commits no page: it neither counts itself nor syncs.
func TestWALCheckIdleSyncFsyncs(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil || os.Getenv("HAMLET_STRACE") == "" {
		t.Skip("set HAMLET_STRACE=1 with strace installed")
	}
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	l.must("sync")
	re := regexp.MustCompile(`(?m)^\d+ +(fsync|fdatasync)\(`)
	for i := range 3 {
		trace := filepath.Join(t.TempDir(), "trace")
		args := ([]string{"-f", "-y", "-o", trace, "-e", "trace=fsync,fdatasync", l.bin, "sync", "--data-dir", l.dir})
		cmd := exec.Command(strace, args...)
		cmd.Env = l.command(t.Context(), "sync").Env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		b, err := os.ReadFile(trace)
		require.NoError(t, err)
		n := len(re.FindAll(b, -1))
		t.Logf("idle sync %d: %d fsyncs\n%s", i, n, b)
	}
}

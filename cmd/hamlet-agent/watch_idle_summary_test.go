package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWatchIdlePullTellsOnlyItself: in sync --watch, a session that cloned
// stays open; a teammate's household then comes by a pull while it idles.
// That pull's summary told the clone again ("nhận 31", the download
// finished), and would again with every change a teammate sends.
func TestWatchIdlePullTellsOnlyItself(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	seedCommune(t, ts, 30)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.command(ctx, "sync", "--watch")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // Ctrl+C
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	wait := func(what string, n int) bool {
		for strings.Count(out.String(), what) < n && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		return strings.Count(out.String(), what) >= n
	}
	require.True(t, wait("30 hộ", 1), "the clone was told:\n%s\n%s", &out, &errOut)
	seedCommune(t, ts, 1) // a teammate's household, while the session idles
	got := wait("Đồng bộ xong", 2)
	time.Sleep(300 * time.Millisecond)
	cancel()
	_ = cmd.Wait()
	t.Logf("stdout:\n%s\nstderr:\n%s", &out, &errOut)
	require.True(t, got, "the teammate's household was pulled")
	require.Equal(t, 1, strings.Count(out.String(), "30 hộ"), "the clone told once")
	require.Contains(t, out.String(), "nhận 10,", "the idle pull tells the 10 field versions it received")
}

package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWatchSummariesTellBytesAndTime: every summary sync --watch prints
// says the bytes on the wire and the time of what it tells. The summaries
// of an open session (its first, a teammate's change pulled while it
// idles, the volunteer's own write pushed) said "0 byte trong 0 giây":
// the session's bytes were counted only when it closed, its time never.
// A part told while idle is its own bytes, fewer than the clone's.
func TestWatchSummariesTellBytesAndTime(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	seedCommune(t, ts, 30)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.command(ctx, "sync", "--watch")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // Ctrl+C
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()
	const synced = "Đồng bộ xong"
	waitFor := func(n int) {
		t.Helper()
		for strings.Count(out.String(), synced) < n && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		require.GreaterOrEqual(t, strings.Count(out.String(), synced), n, "stdout:\n%s\nstderr:\n%s", &out, &errOut)
	}
	waitFor(1)            // the clone
	seedCommune(t, ts, 1) // a teammate's household, pulled while idle
	waitFor(2)
	l.mustAdd(ts.HamletsA[1], "Ngô Thị Tám") // pushed by the open session
	waitFor(3)
	cancel()
	_ = cmd.Wait()

	got := out.String()
	t.Logf("stdout:\n%s", got)
	line := regexp.MustCompile(`Đồng bộ xong: gửi (\S+), nhận (\S+), .*; ([\d.,]+) (byte|KB|MB) trong (.+)\n`)
	sums := line.FindAllStringSubmatch(got, -1)
	require.Len(t, sums, 3, "three summaries:\n%s", got)
	bytes := func(m []string) float64 { // "812 byte", "3,4 KB" (i18n.Bytes)
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(m[3], ".", ""), ",", "."), 64)
		require.NoError(t, err, m[0])
		return f * map[string]float64{"byte": 1, "KB": 1 << 10, "MB": 1 << 20}[m[4]]
	}
	for i, m := range sums {
		require.NotEqual(t, "0", m[3], "summary %d tells its bytes: %q", i+1, m[0])
		require.NotEqual(t, "0 giây", strings.TrimSpace(m[5]), "summary %d tells its time: %q", i+1, m[0])
	}
	require.Equal(t, "10", sums[1][2], "the idle pull received the teammate's household: %q", sums[1][0])
	require.NotEqual(t, "0", sums[2][1], "the push sent the volunteer's household: %q", sums[2][0])
	require.Less(t, bytes(sums[1]), bytes(sums[0]), "the idle pull tells its own bytes, not the session's")
	require.Less(t, bytes(sums[2]), bytes(sums[0]), "the push tells its own bytes, not the session's")
}

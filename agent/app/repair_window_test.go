package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// stopCount is the app's operator log, counting the times its sync
// stopped ("sync stopped"): each restart of a stopped sync that stops
// again is one more.
type stopCount struct{ n atomic.Int64 }

func (c *stopCount) Enabled(context.Context, slog.Level) bool { return true }
func (c *stopCount) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "sync stopped" {
		c.n.Add(1)
	}
	return nil
}
func (c *stopCount) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *stopCount) WithGroup(string) slog.Handler      { return c }

// A repair puts its file in the replica's place, then removes the marker
// (agent.Repair). A sync stopped on the marker, which looked again between
// the two, found the file replaced, started again and stopped on the
// marker still there: it then waited for another change, and the one to
// come, the marker going, was not one it looked for. The sync page said to
// run the repair just run for as long as the app stayed open, while every
// save said to open Hamlet again (helper 235). A replaced file is told as
// such whatever the marker says: what the marker says is of the new file,
// which this app does not read.
func TestStoppedSyncSaysOpenAgainWhenItLooksBetweenTheRepairsLastSteps(t *testing.T) {
	t.Parallel()
	const recheck = 200 * time.Millisecond // how often the stopped sync looks for a change
	ts := servertest.Start(t)
	l := openSyncLaptop(t, ts, ts.TeamA, nil)
	stops := &stopCount{}
	h := newHarness(t, false, func(c *app.Config) {
		c.Replica = l.l
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(c.TokenPath), "token"), []byte(l.tok+"\n"), 0o600))
		c.Sync.MinBackoff = 50 * time.Millisecond
		c.Logger = slog.New(stops)
		app.RecheckEvery(c, recheck)
	})
	pageSays := func(want, what string) {
		t.Helper()
		if !assert.Eventually(t, func() bool {
			_, page := h.get("/sync")
			return strings.Contains(page, want)
		}, 60*time.Second, 100*time.Millisecond, what) {
			_, st := h.get("/sync/status")
			require.FailNow(t, what, "the sync status said: %s", st)
		}
	}
	pageSays(`data-class="ok"`, "the app's sync idles")

	path := l.l.Path()
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	pageSays("Hãy chạy: hamlet-agent repair", "the sync stops on the marker")
	stopped := stops.n.Load()

	// The repair's file takes the name; its marker is still there.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".repair", b, 0o600))
	require.NoError(t, os.Rename(path+".repair", path))
	require.Eventually(t, func() bool { return stops.n.Load() > stopped }, 60*time.Second, 50*time.Millisecond,
		"the stopped sync sees the file replaced and starts again")
	// Then the marker goes.
	require.NoError(t, os.Remove(path+".damaged"))

	pageSays("Hãy đóng Hamlet rồi mở lại", "the sync page says to open Hamlet again")
	_, page := h.get("/sync")
	require.NotContains(t, page, "Hãy chạy: hamlet-agent repair", "not the repair just run")

	// Stopped on the replaced file, it stays stopped: no restart at any of
	// a stopped sync's looks (every 3 s in the app; every recheck here, so
	// the wait sees about 15 looks where 10 s saw 3).
	stopped = stops.n.Load()
	time.Sleep(15 * recheck)
	require.Equal(t, stopped, stops.n.Load(), "the stopped sync is not started again and again")
}

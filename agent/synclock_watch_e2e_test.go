package agent_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWatchWaitsForAStoppedCommandSoLongOnly: the app's Watch waits while a
// sync command of its folder holds the sync lock (synclock.go). A command
// alive but stopped (Ctrl+Z; on Windows a click into its console window)
// holds it for as long as it stays so, and the app stopped syncing
// without a word. Watch says it waits (OnWait: the app's page shows it),
// and after commandWait syncs all the same.
func TestWatchWaitsForAStoppedCommandSoLongOnly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts := servertest.Start(t)
	r, tok := realAgent(t, ts, ts.TeamA)
	_, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ Chờ"})
	require.NoError(t, err)

	release, ok, err := agent.HoldSyncLock(r.Path()) // the stopped command's
	require.NoError(t, err)
	require.True(t, ok)
	defer release()

	var waits atomic.Int32
	synced := make(chan agent.SyncSummary, 16)
	opts := agent.WithCommandWait(agent.SyncOptions{
		IOTimeout: 10 * time.Second,
		OnWait:    func() { waits.Add(1) },
		OnSync: func(s agent.SyncSummary, err error) {
			if err == nil {
				synced <- s
			}
		},
	}, 300*time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx, ts.URL, tok, opts) }()
	select {
	case s := <-synced:
		require.Positive(t, s.Pushed, "the household went")
	case err := <-done:
		t.Fatalf("watch ended: %v", err)
	case <-time.After(2 * time.Minute): // a bound on a hang, not a timing
		t.Fatal("the app's sync waited for the stopped command for ever")
	}
	require.Equal(t, int32(1), waits.Load(), "the wait was told once")
	n, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	cancel()
	require.NoError(t, <-done)
}

// TestSecondWatchWaitsForTheFirst: the app and sync --watch in a terminal,
// open on one folder at once, took the device's session from each other
// each time either connected again (the server keeps one per device),
// each telling its volunteer that another sync had started. The second
// Watch now waits, saying so, and syncs once the first ends.
func TestSecondWatchWaitsForTheFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	first, tok := realAgent(t, ts, ts.TeamA)
	second, err := agent.Open(ctx, first.Path()) // the other window's handle
	require.NoError(t, err)
	t.Cleanup(func() { second.Close() })

	watch := func(r *agent.Replica, waits *atomic.Int32, failed *atomic.Int32) (synced chan struct{}, stop func()) {
		wctx, cancel := context.WithCancel(ctx)
		synced = make(chan struct{}, 64)
		done := make(chan error, 1)
		go func() {
			done <- r.Watch(wctx, ts.URL, tok, agent.SyncOptions{
				IOTimeout: 10 * time.Second,
				OnWait:    func() { waits.Add(1) },
				OnSync: func(_ agent.SyncSummary, err error) {
					if err != nil {
						failed.Add(1)
						return
					}
					synced <- struct{}{}
				},
			})
		}()
		return synced, func() { cancel(); require.NoError(t, <-done) }
	}
	var firstWaits, firstFailed, secondWaits, secondFailed atomic.Int32
	firstSynced, stopFirst := watch(first, &firstWaits, &firstFailed)
	<-firstSynced
	secondSynced, stopSecond := watch(second, &secondWaits, &secondFailed)
	defer stopSecond()
	require.Eventually(t, func() bool { return secondWaits.Load() > 0 }, 2*time.Minute, 10*time.Millisecond,
		"the second Watch never said it waits for the first")
	// The first goes on syncing: a household saved is sent by it.
	_, err = first.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ Một"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { n, err := first.Pending(ctx); return err == nil && n == 0 }, 2*time.Minute, 20*time.Millisecond)
	require.Zero(t, firstFailed.Load(), "the first Watch's session was cut")
	require.Empty(t, secondSynced, "the second Watch synced beside the first")

	stopFirst() // the other window closed
	select {
	case <-secondSynced:
	case <-time.After(2 * time.Minute): // a bound on a hang, not a timing
		t.Fatal("the second Watch did not take over")
	}
	require.Zero(t, secondFailed.Load())
	require.Zero(t, firstWaits.Load())
}

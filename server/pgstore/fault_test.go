package pgstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// PostgreSQL restarted while an agent pushes: the agent gets a retryable
// error, pushes the same batch again, and in the end every change it was
// acknowledged is in the log exactly once. The other process's commit feed
// reconnects, so its agents are notified again afterwards.
func TestPostgresRestartMidPush(t *testing.T) {
	cl := pgtest.NewCluster(t)
	open := func() (*servertest.TS, *pgstore.Store) {
		st, err := pgstore.Open(ctx, cl.URL, pgstore.Options{MaxConns: 4, AcquireTimeout: 2 * time.Second, Logger: servertest.Logger()})
		require.NoError(t, err)
		return servertest.Start(t, servertest.WithStore(st)), st
	}
	a, _ := open()
	b, stB := open()
	dev := a.NewDevice(t, a.TeamA)
	watcher := b.Connect(t, b.NewDevice(t, a.TeamA))

	const batches, per = 40, 25
	h := a.HamletsA[0]
	w := servertest.NewWriter(dev.Replica, nil)
	all := make([][]syncproto.Change, batches)
	for i := range all {
		for j := 0; j < per; j++ {
			all[i] = append(all[i], w.Household(uuid.New(), h, "Hộ thử")...)
		}
	}

	var restartErr error
	var once sync.Once
	restarted := make(chan struct{})
	c := a.Connect(t, dev)
	retries, codes := 0, map[syncproto.Code]int{}
	for i := 0; i < len(all); {
		if i == batches/4 {
			once.Do(func() {
				go func() { restartErr = cl.Restart(); close(restarted) }()
			})
		}
		ack, err := c.Push(uint64(i+1), all[i])
		if err == nil {
			for _, r := range ack.Results {
				require.Contains(t, []syncproto.ResultStatus{syncproto.ResultApplied, syncproto.ResultDuplicate}, r.Status)
			}
			i++
			continue
		}
		var pe *syncproto.Error
		if errors.As(err, &pe) {
			require.True(t, pe.Code.Retryable(), "not retryable: %v", err)
			codes[pe.Code]++
		} else { // the session ended: reconnect, as the agent does
			c.Close()
			c = a.Connect(t, dev)
		}
		retries++
		require.Less(t, retries, 500, "the push never got through")
		time.Sleep(50 * time.Millisecond)
	}
	<-restarted
	require.NoError(t, restartErr)
	t.Logf("%d retries, error codes %v", retries, codes)
	require.Positive(t, retries, "the restart did not hit a push: make the batches bigger")
	for code := range codes {
		// What a store failure is answered with: retry after a pause.
		require.Contains(t, []syncproto.Code{syncproto.CodeUnavailable, syncproto.CodeBusy}, code)
	}

	// Everything acknowledged is there, once.
	reader := a.Connect(t, a.NewDevice(t, a.TeamA))
	cs, _, _, err := pullAll(t, reader)
	require.NoError(t, err)
	seen := map[syncproto.Dot]int{}
	for _, ch := range cs {
		seen[ch.Dot]++
	}
	for _, batch := range all {
		for _, ch := range batch {
			require.Equal(t, 1, seen[ch.Dot], "change %v", ch.Dot)
		}
	}
	require.Len(t, cs, batches*per*2) // each household: its hamlet and head

	// B's feed reconnected: a push through A reaches B's agent promptly.
	require.Eventually(t, func() bool { return stB.FeedStarts() >= 2 }, 15*time.Second, 20*time.Millisecond)
	_, _, cur, err := pullAll(t, watcher)
	require.NoError(t, err)
	_, err = c.Push(batches+1, w.Household(uuid.New(), h, "Hộ thử"))
	require.NoError(t, err)
	for {
		n, err := watcher.WaitNotify(2 * time.Second)
		require.NoError(t, err)
		require.Positive(t, n, "no Notify on B after the restart")
		if n > cur {
			break
		}
	}
}

// All the pool's connections held: a push is answered "busy" within the
// acquire timeout instead of hanging, and goes through once they are free.
func TestPoolExhaustedIsBusy(t *testing.T) {
	url := pgtest.MigratedDB(t, pgstore.Migrate)
	st, err := pgstore.Open(ctx, url, pgstore.Options{MaxConns: 2, AcquireTimeout: 300 * time.Millisecond, Logger: servertest.Logger()})
	require.NoError(t, err)
	ts := servertest.Start(t, servertest.WithStore(st))
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)

	var held []interface{ Release() }
	for i := 0; i < 2; i++ {
		conn, err := st.Pool().Acquire(ctx)
		require.NoError(t, err)
		held = append(held, conn)
	}
	h := ts.HamletsA[0]
	w := servertest.NewWriter(dev.Replica, nil)
	batch := w.Household(uuid.New(), h, "Hộ thử")
	start := time.Now()
	_, err = c.Push(1, batch)
	var pe *syncproto.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, syncproto.CodeBusy, pe.Code)
	require.True(t, pe.Code.Retryable())
	require.Less(t, time.Since(start), 5*time.Second)

	// The store says what to do about it.
	_, err = st.Head(ctx)
	require.ErrorIs(t, err, server.ErrBusy)
	require.Contains(t, err.Error(), "pool_max_conns")

	for _, conn := range held {
		conn.Release()
	}
	ack, err := c.Push(1, batch)
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
}

// pullAll is PullAll(0), retried as an agent retries a retryable error (a
// pool connection that broke in the restart is found out by its first use).
func pullAll(t *testing.T, c *servertest.Client) ([]syncproto.Change, []syncproto.Eviction, uint64, error) {
	for i := 0; ; i++ {
		cs, ev, cur, err := c.PullAll(0)
		var pe *syncproto.Error
		if err == nil || !errors.As(err, &pe) || !pe.Code.Retryable() || i == 10 {
			return cs, ev, cur, err
		}
		t.Logf("pull: %v; retrying", err)
		time.Sleep(50 * time.Millisecond)
	}
}

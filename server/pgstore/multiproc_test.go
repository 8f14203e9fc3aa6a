package pgstore_test

import (
	"fmt"
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

// twoServers starts two servers, each on a store of its own, on one fresh
// database: two hamlet-server processes behind a load balancer.
func twoServers(t *testing.T, cfg func(*server.Config)) (a, b *servertest.TS, url string) {
	t.Helper()
	url = pgtest.MigratedDB(t, pgstore.Migrate)
	start := func() *servertest.TS {
		st, err := pgstore.Open(ctx, url, pgstore.Options{MaxConns: 8, Logger: servertest.Logger()})
		require.NoError(t, err)
		opts := []servertest.Option{servertest.WithStore(st)}
		if cfg != nil {
			opts = append(opts, servertest.WithConfig(cfg))
		}
		return servertest.Start(t, opts...)
	}
	a = start()
	b = start()
	require.Equal(t, a.TeamA, b.TeamA)
	return a, b, url
}

// An agent connected to process A hears of a change pushed through process
// B at once (LISTEN/NOTIFY), without polling, and its pull gets it, again
// and again: A's idle-pull answer never says "nothing new" for it.
func TestNotifyAcrossProcesses(t *testing.T) {
	a, b, _ := twoServers(t, nil)
	devA, devB := a.NewDevice(t, a.TeamA), b.NewDevice(t, a.TeamA)
	ca, cb := a.Connect(t, devA), b.Connect(t, devB)
	other := a.Connect(t, a.NewDevice(t, a.TeamB)) // another scope: told nothing
	_, _, cur, err := ca.PullAll(0)
	require.NoError(t, err)
	_, _, curOther, err := other.PullAll(0)
	require.NoError(t, err)
	w := servertest.NewWriter(devB.Replica, nil)
	h := a.HamletsA[0]
	for i := 1; i <= 20; i++ {
		row := uuid.New()
		_, err := cb.Push(uint64(i), w.Household(row, h, "Hộ thử"))
		require.NoError(t, err)
		start := time.Now()
		n, err := ca.WaitNotify(2 * time.Second)
		require.NoError(t, err)
		require.Positive(t, n, "no Notify on A within 2 s of a push through B (round %d)", i)
		if i == 1 {
			t.Logf("notify across processes after %v", time.Since(start))
		}
		cs, _, to, err := ca.PullAll(cur)
		require.NoError(t, err)
		require.Len(t, cs, 2, "round %d", i)
		require.Equal(t, row, cs[0].Row)
		require.GreaterOrEqual(t, to, n)
		cur = to
	}
	// The other team's agent on A was not told, and its pull is answered
	// from memory without missing anything.
	m, err := other.Pull(curOther, 0)
	require.NoError(t, err)
	require.Empty(t, m.Changes)
	require.Zero(t, other.Notifies)
}

// Concurrent pushes to one field of one row through A and B converge: both
// processes serve the same winner, the one Wins picks among all changes.
func TestConcurrentPushesAcrossProcessesConverge(t *testing.T) {
	a, b, _ := twoServers(t, nil)
	row := uuid.New()
	h := a.HamletsA[0]
	const pushers, each = 4, 25
	creator := a.NewDevice(t, a.TeamA)
	_, err := a.Connect(t, creator).Push(1, servertest.NewWriter(creator.Replica, nil).Household(row, h, "Hộ thử"))
	require.NoError(t, err)
	var mu sync.Mutex
	var all []syncproto.Change
	var wg sync.WaitGroup
	errs := make(chan error, pushers)
	for p := 0; p < pushers; p++ {
		ts := a
		if p%2 == 1 {
			ts = b
		}
		dev := ts.NewDevice(t, a.TeamA)
		c := ts.Connect(t, dev)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := servertest.NewWriter(dev.Replica, nil)
			for i := 1; i <= each; i++ {
				ch := w.Write("households", row, "members_count", syncproto.Int(int64(p*10+i%10+1)), h)
				ack, err := c.Push(uint64(i), []syncproto.Change{ch})
				if err != nil {
					errs <- err
					return
				}
				if r := ack.Results[0]; r.Status == syncproto.ResultRefused {
					errs <- fmt.Errorf("change refused: %s %s", r.Code, r.Reason)
					return
				} else if r.HLC != 0 {
					ch.HLC = r.HLC // restamped
				}
				mu.Lock()
				all = append(all, ch)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	want := all[0]
	for _, c := range all[1:] {
		if syncproto.Wins(c.HLC, c.Dot, want.HLC, want.Dot) {
			want = c
		}
	}
	// What a replica holds after pulling everything: the log keeps the
	// changes that lost too (a conflict's loser reaches every replica), in
	// commit order, so the last one logged need not be the winner; a
	// replica merges them as Wins says.
	final := func(ts *servertest.TS) syncproto.Value {
		c := ts.Connect(t, ts.NewDevice(t, a.TeamA))
		cs, _, _, err := c.PullAll(0)
		require.NoError(t, err)
		var best *syncproto.Change
		for i := range cs {
			ch := &cs[i]
			if ch.Row == row && ch.Field == "members_count" && (best == nil || syncproto.Wins(ch.HLC, ch.Dot, best.HLC, best.Dot)) {
				best = ch
			}
		}
		require.NotNil(t, best)
		return best.Value
	}
	require.Equal(t, want.Value, final(a))
	require.Equal(t, want.Value, final(b))
}

// Enrollment codes, revocations and cursors hold across processes.
func TestSessionsAcrossProcesses(t *testing.T) {
	a, b, _ := twoServers(t, func(c *server.Config) { c.RevokeCheck = 100 * time.Millisecond })

	// A code issued through A is exchanged through B.
	replica := uuid.New()
	er, status, eb, err := servertest.Enroll(ctx, b.URL, a.EnrollCode(t, a.TeamA), replica, "máy thử")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	dev := servertest.Device{Replica: replica, Token: er.Token, Enroll: er}

	// A cursor from A is valid on B: the rest of the log, nothing twice.
	pusher := a.NewDevice(t, a.TeamA)
	cp := a.Connect(t, pusher)
	w := servertest.NewWriter(pusher.Replica, nil)
	h := a.HamletsA[0]
	var rows []uuid.UUID
	for i := 1; i <= 10; i++ {
		r := uuid.New()
		rows = append(rows, r)
		_, err := cp.Push(uint64(i), w.Household(r, h, "Hộ thử"))
		require.NoError(t, err)
	}
	ca := a.Connect(t, dev)
	m, err := ca.Pull(0, 4)
	require.NoError(t, err)
	require.Len(t, m.Changes, 4)
	require.True(t, m.More)
	require.NoError(t, ca.Close())
	cb := b.Connect(t, dev)
	rest, _, _, err := cb.PullAll(m.To)
	require.NoError(t, err)
	var got []uuid.UUID
	for _, c := range append(m.Changes, rest...) {
		if len(got) == 0 || got[len(got)-1] != c.Row { // a household's hamlet and head
			got = append(got, c.Row)
		}
	}
	require.Equal(t, rows, got)

	// Revoked through A: B closes its open session and refuses a new one.
	require.NoError(t, a.Admin.RevokeDevice(ctx, er.DeviceID))
	_, err = cb.Pull(0, 1)
	for err == nil { // a pull answered before B checked; the next one ends
		time.Sleep(20 * time.Millisecond)
		_, err = cb.Pull(0, 1)
	}
	_, status, eb, err = servertest.Dial(ctx, b.URL, dev.Token)
	require.Error(t, err)
	require.Equal(t, 403, status)
	require.Equal(t, syncproto.CodeTokenRevoked, eb.Error.Code)
}

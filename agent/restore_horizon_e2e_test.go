package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoreReachesReplicasThatDroppedTheTombstone: a household deleted on
// a laptop that then stays silent past the server's horizon; the others
// are told the tombstone is behind every active device (Changes.Horizon)
// and drop the row. Before the server's next collection takes it, the
// silent laptop returns and restores the household. Every replica must
// hold the household again, whole: the ones that dropped it hold none of
// its fields and need more than the restore itself (issue 17, silent seeds
// 64255 and 80611).
func TestRestoreReachesReplicasThatDroppedTheTombstone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts, enroll := horizonServer(t, clk)
	a, ta := enroll()
	b, tb := enroll()
	s, tsil := enroll()
	hamlet := ts.HamletsA[0]

	h, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan", "phone": "0912345678"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	for _, r := range []struct {
		rep *agent.Replica
		tok string
	}{{b, tb}, {s, tsil}} {
		realSync(t, r.rep, ts, r.tok)
		realSync(t, r.rep, ts, r.tok) // the server hears it stored the household
	}

	// S deletes it, pushes the delete and goes silent past the horizon.
	require.NoError(t, s.Delete(ctx, "households", h))
	realSync(t, s, ts, tsil)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	// The server notes a session's device in contact as the session ends,
	// which may be after the client returned: S's ends before time jumps.
	ts.WaitSessionsEnded(t)
	clk.advance(190 * 24 * time.Hour)

	// A and B pull the delete and acknowledge it; S no longer holds the
	// horizon back, so they are told to drop the tombstone, and do.
	dropAtHorizon(t, ts, laptop{"a", a, ta}, laptop{"b", b, tb})
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b} {
		require.False(t, holdsRow(t, rep, h), "replica %s still holds the deleted household", name)
	}

	// S returns before the server's collection ran, and restores it.
	require.NoError(t, s.Restore(ctx, "households", h))
	sum := realSync(t, s, ts, tsil)
	require.Zero(t, sum.Rejected)

	for name, rep := range map[string]*agent.Replica{"a": a, "b": b, "silent": s} {
		tok := map[string]string{"a": ta, "b": tb, "silent": tsil}[name]
		realSync(t, rep, ts, tok)
		d, err := rep.Show(ctx, "households", h.String())
		require.NoError(t, err, "replica %s lost the restored household", name)
		require.Equal(t, "Võ Thị Lan", d.Fields["head_name"], name)
		require.Equal(t, "0912345678", d.Fields["phone"], name)
		require.NoError(t, rep.Check(ctx), name)
	}
	c, tc := enroll()
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b, "silent": s} {
		got, err := rep.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
	}
}

// TestLateEditOfADroppedRowStaysDeleted: as above, but the silent laptop
// comes back with an edit it made before the delete reached it, not a
// restore. The server merges it into the deleted row (fields keep merging
// under a tombstone); the replicas that dropped the row must not take the
// edit alone for a live row of one field.
func TestLateEditOfADroppedRowStaysDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts, enroll := horizonServer(t, clk)
	a, ta := enroll()
	b, tb := enroll()
	s, tsil := enroll()
	hamlet := ts.HamletsA[0]

	h, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, s, ts, tsil)
	realSync(t, s, ts, tsil)
	ts.WaitSessionsEnded(t) // S's session ends before time jumps

	// S edits it offline and goes silent; A deletes it.
	require.NoError(t, s.EditHousehold(ctx, h, agent.Fields{"phone": "0912345678"}))
	require.NoError(t, a.Delete(ctx, "households", h))
	realSync(t, a, ts, ta)
	clk.advance(190 * 24 * time.Hour)
	dropAtHorizon(t, ts, laptop{"a", a, ta}, laptop{"b", b, tb})

	// S returns before the server's collection ran: its edit is merged
	// into the deleted row.
	sum := realSync(t, s, ts, tsil)
	require.Zero(t, sum.Rejected)
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b, "silent": s} {
		tok := map[string]string{"a": ta, "b": tb, "silent": tsil}[name]
		realSync(t, rep, ts, tok)
		realSync(t, rep, ts, tok)
		require.False(t, liveHousehold(t, rep, h), "replica %s holds the deleted household live", name)
		if d, err := rep.Show(ctx, "households", h.String()); err == nil {
			require.True(t, d.Deleted, "replica %s shows the deleted household", name)
		} else {
			require.ErrorIs(t, err, agent.ErrNotFound, name)
		}
		require.NoError(t, rep.Check(ctx), name)
	}
	// The delete hid S's edit: a conflict on the household's tombstone, on
	// the deleter's laptop too, as if it had kept the tombstone.
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.NotEmpty(t, cs, "the deleter records no conflict for the edit its delete hid")

	// Collected everywhere, every replica equals a fresh clone. The
	// server collects the row once it has recorded every laptop's cursor
	// past the re-logged tombstone (written by the activity flush, which
	// runs on its own), and each laptop drops it at the horizon after.
	gone := func() bool {
		r, e, _ := serverHolds(t, ts, h)
		for _, rep := range []*agent.Replica{a, b, s} {
			if holdsRow(t, rep, h) {
				return false
			}
		}
		return r == 0 && e == 0
	}
	for i := 0; i < 200 && !gone(); i++ {
		_, err = ts.Server.GC(ctx)
		require.NoError(t, err)
		for name, rep := range map[string]*agent.Replica{"a": a, "b": b, "silent": s} {
			realSync(t, rep, ts, map[string]string{"a": ta, "b": tb, "silent": tsil}[name])
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.True(t, gone(), "the deleted household is collected everywhere")
	c, tc := enroll()
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b, "silent": s} {
		got, err := rep.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
	}
}

// horizonServer starts a server on clk's time, and enroll makes laptops of
// team A on it. The horizon is read from the store: device activity (the
// acknowledged cursors) is written often so it counts them soon.
func horizonServer(t *testing.T, clk *fakeClock) (*servertest.TS, func() (*agent.Replica, string)) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.Now = clk.now
		c.FlushInterval = 5 * time.Millisecond
	}))
	return ts, func() (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: clk.now})
		tok, _, err := r.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
}

// laptop is a replica of a test and its token.
type laptop struct {
	name string
	rep  *agent.Replica
	tok  string
}

// dropAtHorizon syncs the laptops until each has dropped one tombstone,
// told by the horizon that every active device holds it (the activity
// flush runs on its own, so it may take a few rounds).
func dropAtHorizon(t *testing.T, ts *servertest.TS, ls ...laptop) {
	t.Helper()
	collected, want := map[string]int{}, map[string]int{}
	for _, l := range ls {
		want[l.name] = 1
	}
	done := func() bool {
		for _, l := range ls {
			if collected[l.name] == 0 {
				return false
			}
		}
		return true
	}
	for i := 0; i < 200 && !done(); i++ {
		for _, l := range ls {
			collected[l.name] += realSync(t, l.rep, ts, l.tok).Collected
		}
		time.Sleep(10 * time.Millisecond) // the next activity flush
	}
	require.Equal(t, want, collected, "the horizon passed the tombstone")
}

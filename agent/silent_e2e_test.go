package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// fakeClock is the wall clock of the server and the agents of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSilentDeviceReturns is part 5's second acceptance test. A laptop
// goes silent with offline edits; 200 days later (past the 180-day
// horizon) it no longer holds collection back: the server drops a
// tombstone it never pulled and truncates the log below the others. When
// it returns it pushes its edits first (accepted), is told to re-clone
// (its cursor is below the log floor GC recorded), and ends identical to
// the other replicas and to a fresh clone.
func TestSilentDeviceReturns(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.Now = clk.now
		c.TruncateLog = true
	}))
	enroll := func() (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: clk.now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
	a, ta := enroll()
	s, tsil := enroll()
	hamlet := ts.HamletsA[0]

	kept, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Phạm Văn Dũng"})
	require.NoError(t, err)
	gone, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, s, ts, tsil)
	realSync(t, s, ts, tsil) // the server hears S stored it

	// S goes silent with offline edits.
	require.NoError(t, s.EditHousehold(ctx, kept, agent.Fields{"phone": "0987654321"}))
	offline, err := s.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Hộ mới ngoại tuyến"})
	require.NoError(t, err)

	// Meanwhile A deletes one household and edits the other.
	clk.advance(10 * 24 * time.Hour)
	require.NoError(t, a.Delete(ctx, "households", gone))
	require.NoError(t, a.EditHousehold(ctx, kept, agent.Fields{"notes": "đã hướng dẫn cài VNeID"}))
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)

	// Within the horizon, S holds collection back.
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Rows, "a device silent 10 days held nothing back")

	// Past it, S no longer does.
	clk.advance(190 * 24 * time.Hour)
	realSync(t, a, ts, ta) // A stays in touch
	st, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows, "the silent device still holds the tombstone back")
	require.Positive(t, st.Truncated)
	r, e, d := serverHolds(t, ts, gone)
	require.Equal(t, [3]int{0, 0, 0}, [3]int{r, e, d})

	// S returns: its edits are pushed and accepted, then it re-clones.
	sum := realSync(t, s, ts, tsil)
	require.Equal(t, 5, sum.Pushed, "the phone edit, and the new household's hamlet, head, active, registered_on")
	require.Zero(t, sum.Rejected)
	require.Positive(t, sum.Cloned, "it re-cloned")
	n, err := s.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = s.Show(ctx, "households", gone.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "the tombstone it never pulled is gone with the re-clone")
	realSync(t, a, ts, ta)

	c, tc := enroll()
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	for name, rep := range map[string]*agent.Replica{"a": a, "silent": s} {
		got, err := rep.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
		dd, err := rep.Show(ctx, "households", kept.String())
		require.NoError(t, err, name)
		require.Equal(t, "0987654321", dd.Fields["phone"], name)
		require.Equal(t, "đã hướng dẫn cài VNeID", dd.Fields["notes"], name)
		_, err = rep.Show(ctx, "households", offline.String())
		require.NoError(t, err, name)
		require.NoError(t, rep.Check(ctx), name)
	}
}

// TestSilentDeviceReturnsToCompactedLog: while a laptop is silent past the
// horizon, another edits a field it holds twice, and collection compacts
// the log (no truncation): the first edit's entry goes, superseded by the
// second, whose base it is. When the laptop returns, nothing it holds
// competed with either edit: its conflict log stays empty and it holds the
// second. On the code before the fix it replayed the compacted log from
// its cursor and met the second edit based on one it never saw: a
// conflict between its old value and the edit written over it (the
// simulation's silent world, seeds 1, 12 and 39: there the middle version
// went from the hamlet a household moved to, the first stayed in the one
// it left).
func TestSilentDeviceReturnsToCompactedLog(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	enroll := func() (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: clk.now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
	a, ta := enroll()
	s, tsil := enroll()
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Phạm Văn Dũng", "phone": "0900000000"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, s, ts, tsil)
	realSync(t, s, ts, tsil) // the server hears S stored it

	// S goes silent; A edits the phone twice, and stays in touch past the
	// horizon.
	for _, ph := range []string{"0911111111", "0922222222"} {
		require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"phone": ph}))
		realSync(t, a, ts, ta)
	}
	clk.advance(190 * 24 * time.Hour)
	realSync(t, a, ts, ta) // the server hears A stored both
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, st.Superseded, "the first two phones' entries: S, silent past the horizon, no longer holds the second back")
	require.Zero(t, st.Truncated)

	sum := realSync(t, s, ts, tsil)
	cf, err := s.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the returning laptop's conflict log holds a conflict where nothing competed: %s %s.%s: %v lost to %v",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Winner.Value)
	}
	got, err := s.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "0922222222", got.Fields["phone"], "the returning laptop holds the last edit")
	require.Positive(t, sum.Cloned, "told to clone again: compaction removed what it had not pulled")
	want, err := a.Snapshot(ctx)
	require.NoError(t, err)
	have, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the returning laptop equals the other\n%s", diffSnap(want, have))
}

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

// TestLosingMoveIntoALostHamletKeepsTheRow (issue 17: seed 4700523 of the
// wide and silent worlds with truncation): offline, a volunteer moves a
// household to the team's other hamlet (and, in one case, deletes it); a
// teammate whose clock runs ahead corrects the household's hamlet later by
// its clock, leaving it where it was on the server. The team then loses the
// other hamlet, and the first laptop, syncing, drops the household it holds
// there. Its move reaches the server second and loses (superseded): the
// server never moved the household, so it logged nothing the laptop would
// pull but the teammate's later writes, and the laptop rebuilt the
// household from those alone: a partial row, live where the server held it
// deleted, which collection then removed from the server ("L3 does not
// hold what the server holds in households (scope [32002-01]): holds
// 5a7e8c97, which the server does not"). The laptop pushes in one batch,
// or in batches of one change: its later writes of the household in the
// batches after the losing move go back to it too (review 38).
func TestLosingMoveIntoALostHamletKeepsTheRow(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{0, 1} {
		for _, deleted := range []bool{false, true} {
			name := "moved"
			if deleted {
				name = "moved and deleted"
			}
			if batch > 0 {
				name += ", batches of 1"
			}
			t.Run(name, func(t *testing.T) { losingMoveIntoALostHamlet(t, deleted, batch) })
		}
	}
}

func losingMoveIntoALostHamlet(t *testing.T, deleted bool, batch int) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	home, lost := ts.HamletsA[0], ts.HamletsA[1]
	ahead := func() time.Time { return clk.now().Add(10 * time.Minute) }
	enroll := func(now func() time.Time) (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
	syncA := func(r *agent.Replica, tok string) {
		_, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second, BatchSize: batch})
		require.NoError(t, err)
	}
	a, ta := enroll(clk.now)
	b, tb := enroll(ahead)
	hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	syncA(a, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
	if deleted {
		require.NoError(t, a.Delete(ctx, "households", hh))
	}
	clk.advance(time.Minute)
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": home, "head_name": "Quách Văn Tư Em"}))
	clk.advance(time.Minute)
	realSync(t, b, ts, tb)
	syncA(a, ta)
	syncA(a, ta)

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop whose move lost equals the server\n%s", diffSnap(want, got))
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the laptop holds the household, which the server holds in its team's hamlet")
	require.Equal(t, deleted, d.Deleted)
	require.Equal(t, "0912000111", d.Fields["phone"], "whole: %+v", d.Record)

	// The volunteer is told her move lost, as the server logged it: the
	// row came back by the move's re-log without ever meeting the
	// teammate's write in a pull while she held her move (issue 17, the
	// simulation's losers-told check).
	require.Equal(t, []any{lost}, myLostValues(t, a, hh, "hamlet_code"), "the laptop lists its move to the lost hamlet as lost")
}

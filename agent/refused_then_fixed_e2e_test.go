package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A laptop offline moves a household to a hamlet its team has lost
// meanwhile; the server refuses the move, and the volunteer, reading the
// refusal, moves the household back rather than discarding it. The
// correction's base is the refused move, which the server never took: the
// server judged it as concurrent with the household's first hamlet_code,
// the laptop's own, and logged a conflict where nothing competed, one a
// coordinator would be asked to look at (issue 17, wide seed 2078). The
// server judges a write over a refused one by the refused write's base.
func TestCorrectionOfARefusedMoveIsNoConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	id, kept := refusedMove(t, ts, a, ta)
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": kept}))
	sum := realSync(t, a, ts, ta)
	require.Zero(t, sum.Rejected)
	realSync(t, a, ts, ta)

	entries, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 10)
	require.NoError(t, err)
	for _, e := range entries {
		t.Errorf("the server's conflict log holds %s %s.%s in %s: nothing competed", e.Table, e.Row, e.Field, e.Hamlet)
	}
	require.Zero(t, total, "the server's conflict log is empty")
	cf, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf, "the laptop's conflict list is empty")

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	got, err := b.Show(ctx, "households", id.String())
	require.NoError(t, err)
	require.Equal(t, kept, got.Fields["hamlet_code"])
	cf, err = b.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf, "a fresh clone's conflict list is empty")
}

// refusedMove has a's household, synced in the team's first hamlet (kept),
// moved to its second after the team lost it: the move is refused, and
// the volunteer has not discarded it.
func refusedMove(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string) (id syncproto.RowID, kept string) {
	t.Helper()
	ctx := context.Background()
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ chuyển nhầm"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": lost}))
	require.Equal(t, 1, realSync(t, a, ts, ta).Rejected, "the move is refused")
	tick()
	return id, kept
}

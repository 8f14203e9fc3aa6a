package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestMovedRowKeepsItsBasesForADeviceOfItsNewHamlet (issue 17: seed 721439
// of the wide and silent worlds with truncation): a volunteer adds a
// household in the team's first hamlet and, offline, moves it to the
// second. A teammate corrects the head's name (based on the volunteer's).
// The team then loses the first hamlet, and the server's collection clears
// the bases of the versions there: no device covers that hamlet any more.
// The volunteer's laptop syncs: its move is taken (made while the team held
// the hamlet) and the household is logged again into the second hamlet,
// its current versions with their bases. The correction came with none,
// and the laptop, which holds its own earlier name, recorded a conflict
// between its name and the correction made over it: a conflict the server
// and the teammate never had.
func TestMovedRowKeepsItsBasesForADeviceOfItsNewHamlet(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	first, second := ts.HamletsA[0], ts.HamletsA[1]
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Tô Văn Ba"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	realSync(t, m, ts, tm)

	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": second}))
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"head_name": "Tô Văn Bá"}))
	realSync(t, m, ts, tm)
	realSync(t, m, ts, tm)
	tick() // the move was made while the team held the first hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, first)
	require.NoError(t, err)
	require.True(t, changed)
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)

	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Tô Văn Bá", d.Fields["head_name"])
	require.Equal(t, second, d.Fields["hamlet_code"])
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs, "the laptop records a conflict between its name and the correction made over it")
}

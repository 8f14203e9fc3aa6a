package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop offline moves a household out of a hamlet into another its
// team covers; meanwhile a teammate corrects the household's notes twice
// and moves it there too, and the team then loses the first hamlet. The
// laptop keeps the household (its own move put it in a hamlet it keeps),
// with the notes it had, two writes behind: it never pulled the first
// hamlet's log past them. The server's move logged the household's
// current versions again into the hamlet it moved to, each with its own
// base only: the second correction, based on the first, which the laptop
// never saw. The laptop took its old notes for a write that competed with
// the second correction and listed a conflict no one had (issue 17, wide
// and silent seed 1403595). What it held there came from the server and
// was overwritten there: the server's version is taken without a conflict.
func TestCarriedOutOfALostHamletNoFalseConflict(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	l, tl := realAgent(t, ts, team.ID)
	m, tm := realAgent(t, ts, team.ID)

	row, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Nguyễn Văn Bình", "notes": "nhà gần chợ"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)

	// The teammate corrects the notes twice, syncing each, then moves the
	// household to H.
	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"notes": "nhà gần chợ Cái Nước"}))
	realSync(t, m, ts, tm)
	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"notes": "nhà gần chợ Cái Nước, hẻm 3"}))
	realSync(t, m, ts, tm)
	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
	realSync(t, m, ts, tm)

	// The laptop, offline all along, moves it to H as well; then the team
	// loses G.
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	sum := realSync(t, l, ts, tl)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{g}, sum.ScopeChange.Lost)
	realSync(t, l, ts, tl)
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, c := range cs {
		require.NotEqual(t, "notes", c.Field, "the laptop lists a conflict on the notes no one wrote against: %+v", c)
	}
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "nhà gần chợ Cái Nước, hẻm 3", d.Fields["notes"])

	c, tc := realAgent(t, ts, team.ID)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals a fresh clone\n%s", diffSnap(want, got))
}

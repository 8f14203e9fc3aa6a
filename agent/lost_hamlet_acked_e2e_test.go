package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 28's D2 in the lost-hamlet path: L's edit is pushed and
// acknowledged, its pull cut (acked_from set); another team writes the
// same field twice over it; L's team loses the hamlet and L drops its
// rows, keeping its acknowledged edit (own_away); the team gains the
// hamlet back and L back-fills it. The back-fill brings the chain's last
// version, based on the middle one: L must not record a conflict between
// its own edit and a write made over it, which the server has not.
func TestLostHamletKeepsNoAcknowledgedEditOverwritten(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	h := ts.HamletsA[1]
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{h})
	require.NoError(t, err)
	l, tl := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)

	row, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)

	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pushOnly(t, l, ts, tl)

	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Ba"}))
	realSync(t, c, ts, tc)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	realSync(t, l, ts, tl)
	require.False(t, holdsRow(t, l, row), "the household's hamlet left L's team")

	changed, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, h)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Bính Ba", d.Fields["head_name"])

	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, k := range cs {
		t.Logf("L's conflict: %s.%s loser %v winner %v", k.Table, k.Field, k.Loser, k.Winner)
	}
	require.Equal(t, total, len(cs), "L records conflicts the server has not (server: %d)", total)
	require.Empty(t, cs, "L records a conflict between its edit and a write made over it")
}

// The same, the household brought back by a move into a hamlet L's team
// keeps (the move's re-log), not by the team gaining its hamlet again.
func TestLostHamletKeepsNoAcknowledgedEditOverwrittenMovedBack(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	h := ts.HamletsA[1]
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{h, ts.HamletsA[0]})
	require.NoError(t, err)
	l, tl := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)

	row, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)

	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pushOnly(t, l, ts, tl)

	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Ba"}))
	realSync(t, c, ts, tc)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	realSync(t, l, ts, tl)
	require.False(t, holdsRow(t, l, row), "the household's hamlet left L's team")

	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": ts.HamletsA[0]}))
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Bính Ba", d.Fields["head_name"])

	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, k := range cs {
		t.Logf("L's conflict: %s.%s loser %v winner %v", k.Table, k.Field, k.Loser, k.Winner)
	}
	require.Equal(t, total, len(cs), "L records conflicts the server has not (server: %d)", total)
	require.Empty(t, cs, "L records a conflict between its edit and a write made over it")
}

package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A Welcome that brings a gained hamlet lets the volunteer write there at
// once; the replica takes the hamlet as held only after the session's
// push. When that session is cut in between, a household added in the
// gained hamlet must still go with it when the team loses the hamlet
// again: the server takes the household (made while the team held the
// hamlet) and files it there, outside the team's hamlets, and the laptop
// kept it for good, since its next Welcome matched the hamlets it had
// noted as held (issue 17, wide seed 1124687).
func TestCutWelcomeStillDropsAHamletLostAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	h, g := ts.HamletsA[0], ts.OtherHamletA
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{h})
	require.NoError(t, err)
	l, tl := realAgent(t, ts, team.ID)
	own, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)

	_, err = ts.Admin.AddTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	// Something to push, so the session is cut at the push's Ack: after
	// the Welcome, before the replica takes the new scope.
	require.NoError(t, l.EditHousehold(ctx, own, agent.Fields{"phone": "0912000111"}))
	err = syncCutAfter(l, ts, tl, func(int) int { return 1 })
	require.Error(t, err, "the session was to be cut after its Welcome")

	added, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Trần Thị Hoa"})
	require.NoError(t, err, "the Welcome said the team covers %s", g)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	sum := realSync(t, l, ts, tl)
	require.NotNil(t, sum.ScopeChange, "the laptop wrote in a hamlet its team no longer covers")
	require.Equal(t, []string{g}, sum.ScopeChange.Lost)
	realSync(t, l, ts, tl)
	require.False(t, holdsRow(t, l, added), "the laptop still holds a household in %s, which its team lost", g)
	require.NoError(t, l.Check(ctx))

	c, tc := realAgent(t, ts, team.ID)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals a fresh clone\n%s", diffSnap(want, got))
}

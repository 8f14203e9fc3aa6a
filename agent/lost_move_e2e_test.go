package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestLosingMoveDoesNotKeepTheRowInTheMoversHamlet (issue 17: seed 740083
// of the wide and silent worlds): a household of one team's hamlet that
// another team also covers. Offline, a volunteer of the first team moves
// it to the team's other hamlet; a volunteer of the second team moves it,
// later, to one of the second team's hamlets, and the first team hands the
// shared hamlet over before its laptop syncs. The first move reaches the
// server second and loses (superseded). The server never held the
// household in the hamlet the first move named, so it logged nothing
// there, and the laptop no longer pulls the hamlet the household left: it
// held the household in its own hamlet, live, for good.
func TestLosingMoveDoesNotKeepTheRowInTheMoversHamlet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	shared, mine := ts.HamletsA[0], ts.HamletsA[1]
	commune := shared[:5]
	_, err := ts.Admin.AddHamlets(ctx, commune, 3, 1) // none when it exists already
	require.NoError(t, err)
	theirs := schema.HamletCode(commune, 3)
	other, err := ts.Admin.CreateTeam(ctx, commune, "Tổ bên cạnh", []string{shared, theirs})
	require.NoError(t, err)
	enroll := func(team string) (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: clk.now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, team), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
	a, ta := enroll(ts.TeamA)
	b, tb := enroll(other.ID)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": shared, "head_name": "Quách Văn Tư"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": mine}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": theirs}))
	clk.advance(time.Minute)
	realSync(t, b, ts, tb)
	// The first team hands the shared hamlet over before its laptop syncs:
	// the laptop no longer pulls the hamlet the household left.
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, shared)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)

	_, err = a.Show(ctx, "households", hh.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "the first team's laptop holds the household, which the server holds in the second team's hamlet")
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the first team's laptop equals the server\n%s", diffSnap(want, got))
}

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

// TestLossToAChainBackToHerValueTold: offline, a volunteer corrects a
// household's head; a teammate, later by the clock, corrects it to
// another name and then to hers again. The team loses the household's
// hamlet: her sync pushes her correction (taken) and drops the
// household, noting it. The teammate's sync pushes his corrections, the
// first of which beats hers (the server logs it), and a later save that
// renames the head again and moves the household to a hamlet the team
// keeps. Her next pull brings the household back by the move's re-log:
// its head first at the teammate's version with her very value (no
// value lost yet), then his rename written over it. She must list her
// correction as lost, as the server logged it. The version with her
// value took her note, and his rename met none: she was never told (stop
// 68: simulation seed 7765251 of every world, where the version with her
// value was a data folder copy's of her own write; root cause and test by
// a helper).
func TestLossToAChainBackToHerValueTold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	home, hamlet := ts.HamletsA[0], ts.HamletsA[1]
	opts := agent.Options{Now: clk.now}
	a := agenttest.New(t, opts)
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy của chị Lan")
	require.NoError(t, err)
	b := agenttest.New(t, opts)
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy của anh Minh")
	require.NoError(t, err)
	hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tứ"}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tư Em"}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tứ"}))
	clk.advance(time.Minute)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "her correction reaches the server first: %+v", sum)
	require.False(t, holdsRow(t, a, hh), "the household left her laptop with the hamlet")
	var noted int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away WHERE taken`).Scan(&noted))
	require.Equal(t, 1, noted, "her correction, taken, is noted")

	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Thị Năm", "hamlet_code": home}))
	clk.advance(time.Minute)
	realSync(t, b, ts, tb)
	realSync(t, b, ts, tb)

	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	requireName(t, a, hh, "Quách Thị Năm", "the household came back with the teammate's last rename")
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
}

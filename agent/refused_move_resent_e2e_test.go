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

// TestRefusedMoveSentAgainKeepsTheRow (issue 17: seed 5058825 of the
// fixing world): a laptop that has not synced since its team lost a hamlet
// adds a household in the team's other hamlet and moves it into the lost
// one. Its first sync: the household is taken, the move refused; the
// volunteer presses «send again» on the move while the sync goes on; the
// sync then drops the lost hamlet's rows, the household with them (its
// hamlet here is the move's, sent again and pending), and the pull brings
// back only the household's hamlet_code: a household of one field.
// Since seed 5803541 «send again» is refused at once there (the Welcome
// has named the team's hamlets); the household still stays whole.
func TestRefusedMoveSentAgainKeepsTheRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	home, lost := ts.HamletsA[0], ts.HamletsA[1]
	l := agenttest.New(t, agent.Options{Now: clk.now})
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	clk.advance(time.Minute)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
	clk.advance(time.Minute)
	resent, pushes := 0, 0
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
		if p.Phase != "push" {
			return
		}
		pushes++
		rej, err := l.Rejected(ctx)
		require.NoError(t, err)
		for _, x := range rej {
			if x.Field == "hamlet_code" && pushes == 1 {
				// The Welcome has told the laptop its team lost the
				// hamlet: the move is refused at once (seed 5803541).
				var se *agent.ScopeError
				require.ErrorAs(t, l.FixRejected(ctx, x.ID, nil), &se)
				resent++
			}
		}
	}}
	s, err := l.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	require.Equal(t, 1, resent, "the move is refused in the first Ack and «send again» pressed before the rescope")
	require.NotNil(t, s.ScopeChange, "the sync dropped the lost hamlet")
	require.Contains(t, s.ScopeChange.Lost, lost)
	realSync(t, l, ts, tok)
	realSync(t, l, ts, tok)

	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the laptop holds the household, which its team covers")
	require.Equal(t, "Quách Văn Tư", d.Fields["head_name"], "the laptop holds a household of its hamlet alone: %+v", d.Record)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the refused move stays listed beside the household")
	require.Equal(t, "hamlet_code", rej[0].Field)
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	sd, err := fresh.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the server holds the household in the team's hamlet")
	require.Equal(t, home, sd.Fields["hamlet_code"])
}

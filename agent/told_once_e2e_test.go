package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestUntoldLossToldOnceByTwoProcesses: on one laptop the command line
// (`hamlet-agent sync`) and the app's background sync run at the same
// moment on one replica file, after the team lost a hamlet. Each sync
// reads the note of the loss (scope_lost_untold) outside any write
// transaction, before either forgets it: the command line printed the
// loss, and the app kept it among its notices as well; the volunteer was
// told twice. Two Replica on one file stand for the two processes (each
// keeps its own connections), their steps interleaved as the two
// processes' can be: both sessions end, then the command line prints its
// summary, then the app keeps its notice. Exactly one of them tells the
// loss, and neither loses it.
func TestUntoldLossToldOnceByTwoProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	h, g := ts.HamletsA[0], ts.OtherHamletA
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{h, g})
	require.NoError(t, err)
	cli, tok := realAgent(t, ts, team.ID)
	_, err = cli.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Trần Thị Hoa"})
	require.NoError(t, err)
	realSync(t, cli, ts, tok)
	app, err := agent.Open(ctx, cli.Path())
	require.NoError(t, err)
	t.Cleanup(func() { _ = app.Close() })

	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	// Both forget the notes themselves once told (ForgetsTold), as the
	// command line and the app do.
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, ForgetsTold: true}
	sCLI, err := cli.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	require.NotNil(t, sCLI.ScopeChange)
	require.Equal(t, []string{g}, sCLI.ScopeChange.Lost, "the command line's sync dropped the hamlet")
	sApp, err := app.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	require.NotNil(t, sApp.ScopeChange, "the app's sync read the note before the command line forgot it")
	require.Equal(t, []string{g}, sApp.ScopeChange.Lost)

	// The command line forgets what it tells and prints it; then the app
	// keeps what its summary tells among its notices.
	printed, err := cli.Told(ctx, sCLI, false)
	require.NoError(t, err)
	require.NotNil(t, printed.ScopeChange, "the command line, first, tells the loss")
	require.Equal(t, []string{g}, printed.ScopeChange.Lost)
	require.Equal(t, 1, printed.ScopeChange.Dropped)
	shown, err := app.Told(ctx, sApp, true)
	require.NoError(t, err)
	require.Nil(t, shown.ScopeChange, "the app's summary no longer tells the loss")
	notices, err := app.Notices(ctx)
	require.NoError(t, err)
	for _, n := range notices {
		require.Nil(t, n.Scope, "the command line printed the loss of %s; the app keeps it too: told twice", g)
	}

	// Told once: neither tells it again.
	for _, r := range []*agent.Replica{cli, app} {
		s, err := r.Sync(ctx, ts.URL, tok, opts)
		require.NoError(t, err)
		require.Nil(t, s.ScopeChange)
	}
}

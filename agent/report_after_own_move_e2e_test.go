package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestReportFiledAfterOwnMoveInOnePushStaysInItsPlace (helper 294): a
// volunteer moves a household from k to m, then files a report of a place
// in k that names the household. It was filed after the move, so it stays
// in k (§17.1), as it did when she synced between the two. When both went
// in one sync the server, which dates her move by the push that brought
// it, took the move for one made after the report and moved the report
// after the household.
func TestReportFiledAfterOwnMoveInOnePushStaysInItsPlace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		syncMidway bool
		batch      int // changes per Push (7: the report's, whole); 0: the default
	}{
		{"synced between the move and the report", true, 0},
		{"the move and the report in one push", false, 0},
		{"the move and the report in two pushes of one sync", false, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts, a, ta, k, _, rep := reportAfterOwnMove(t, tc.syncMidway)
			_, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, BatchSize: tc.batch})
			require.NoError(t, err)
			realSync(t, a, ts, ta)
			requireNoneRefused(t, a)

			r, err := a.Show(ctx, "field_reports", rep.String())
			require.NoError(t, err)
			require.Equal(t, k, r.Fields["hamlet_code"], "her laptop holds the report of a place in k, filed after the household left k, in k")
			mate, tm := realAgent(t, ts, ts.TeamA)
			realSync(t, mate, ts, tm)
			mr, err := mate.Show(ctx, "field_reports", rep.String())
			require.NoError(t, err)
			require.Equal(t, k, mr.Fields["hamlet_code"], "the server holds the report of a place in k, filed after the household left k, in k")
		})
	}
}

// TestReportFiledAfterOwnMoveIntoLostHamletStaysWithTheTeam (helper 294):
// the same, when the team loses the hamlet she moved the household into
// before she syncs (the server takes the move: the team held the hamlet
// when she made it). Her report of a place in k, a hamlet her team keeps,
// was moved out of the team's hamlets, and no laptop of the team held it.
func TestReportFiledAfterOwnMoveIntoLostHamletStaysWithTheTeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, _, m, rep := reportAfterOwnMove(t, false)
	tick()
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, m)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	requireNoneRefused(t, a)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	_, err = mate.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err, "a teammate holds the report of a place in k, her team's hamlet, filed after the household left k")
	_, err = a.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err, "her laptop keeps her report of a place in k")
}

// reportAfterOwnMove: her laptop adds a household in k and syncs, moves it
// to m (and syncs then, if synced), and files a report of a place in k
// that names it.
func reportAfterOwnMove(t *testing.T, synced bool) (ts *servertest.TS, a *agent.Replica, ta, k, m string, rep syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	ts = servertest.Start(t)
	k, m = ts.HamletsA[0], ts.HamletsA[1]
	a, ta = realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": k, "head_name": "Lâm Thị Sáu"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	tick()
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": m}))
	if synced {
		realSync(t, a, ts, ta)
	}
	tick()
	rep, err = a.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": k, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc"})
	require.NoError(t, err)
	return ts, a, ta, k, m, rep
}

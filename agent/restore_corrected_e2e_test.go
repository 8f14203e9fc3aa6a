package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredServerTakesBackAHouseholdCorrectedAfterTheBackup: she adds a
// household after the night's backup, syncs, corrects its head's name and
// syncs again; the server is restored from the backup. Her laptop sends
// the household again (resendLost) under the fork's new id: the name's
// current version is based on her first, which the server lost and which
// is not sent again (overwritten). The server took that base for a
// version it had held and collected, and refused the whole household as
// row_collected: the volunteer saw five refusals and the record was gone
// from every other device (helper 304).
func TestRestoredServerTakesBackAHouseholdCorrectedAfterTheBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	h := ts.HamletsA[0]
	a, ta := realAgent(t, ts, ts.TeamA)
	realSync(t, a, ts, ta)
	restore := backupNow(t, ts)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	tick()
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	realSync(t, a, ts, ta)

	ts2 := restore()
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	requireNoneRefused(t, a)
	equalsFreshClone(t, ts2, ts.TeamA, a)
	fresh, tf := realAgent(t, ts2, ts.TeamA)
	realSync(t, fresh, ts2, tf)
	r, err := fresh.Show(ctx, "households", hh.String())
	require.NoError(t, err, "a fresh clone of her team holds her household")
	require.Equal(t, "Nguyễn Văn Bính", r.Fields["head_name"])
}

// TestRestoredServerTakesBackAFollowedVisitCorrectedBeforeItsPush: she
// logs a visit offline and corrects it; team B moves the household; the
// backup is taken; her push takes the visit into team B's hamlet and her
// laptop drops it. Restored, her laptop sends the visit again from its
// notes (resendAway), the correction based on her first version, which
// the server lost: refused as row_collected, the visit reached no fresh
// clone (helper 304).
func TestRestoredServerTakesBackAFollowedVisitCorrectedBeforeItsPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, teamB, g, _, m, tm, a, ta, _, visit := followSetupX(t, servertest.WithSynchronous("NORMAL"))
	require.NoError(t, a.Update(ctx, "visits", visit, agent.Fields{"notes": "cài VNeID mức 2, đã sửa"}))
	restore := backupNow(t, ts)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	_, err := a.Show(ctx, "visits", visit.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "her visit followed the household out of her team's hamlets")
	realSync(t, m, ts, tm)

	ts2 := restore()
	for range 2 {
		realSync(t, a, ts2, ta)
		realSync(t, m, ts2, tm)
	}
	requireNoneRefused(t, a)
	fresh, tf := realAgent(t, ts2, teamB)
	realSync(t, fresh, ts2, tf)
	r, err := fresh.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "a fresh clone of team B holds her visit")
	require.Equal(t, "cài VNeID mức 2, đã sửa", r.Fields["notes"])
	require.Equal(t, g, r.Fields["hamlet_code"])
	equalsFreshClone(t, ts2, ts.TeamA, a)
}

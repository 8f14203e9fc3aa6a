package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestFollowedRecordSentAgainToARestoredServer: her laptop (team A) logs a
// visit offline for a household of h; team B moves the household to g and
// syncs; the operator takes a backup. Her sync then pushes the visit: the
// server moves it to the household's hamlet (followHouseholds), and her
// laptop drops it, out of her team's hamlets, noting her versions (own_away,
// taken). Team B's laptop pulls it. The server is restored from the backup,
// taken before her push: it lost the visit. Her laptop must send it again
// (resendLost) though it no longer holds the row: sent again from the rows
// it holds alone, the visit reached no fresh clone, and team B's laptop kept
// a record no other device of its hamlet would ever get.
func TestFollowedRecordSentAgainToARestoredServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, teamB, g, h, m, tm, a, ta, hh, visit := followSetupX(t, servertest.WithSynchronous("NORMAL"))
	restore := backupNow(t, ts)

	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	_, err := a.Show(ctx, "visits", visit.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "her laptop dropped the visit: it followed the household out of her team's hamlets")
	realSync(t, m, ts, tm)
	r, err := m.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "the household's team holds her visit before the restore")
	require.Equal(t, g, r.Fields["hamlet_code"])

	ts2 := restore()
	var resent int
	for range 2 {
		resent += realSync(t, a, ts2, ta).Resent
		realSync(t, m, ts2, tm)
	}

	fresh, tf := realAgent(t, ts2, teamB)
	realSync(t, fresh, ts2, tf)
	r, err = fresh.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "a fresh clone of the household's team holds her visit")
	require.Equal(t, "cài VNeID mức 2", r.Fields["notes"])
	require.Equal(t, g, r.Fields["hamlet_code"], "in the household's hamlet")
	require.Equal(t, hh.String(), r.Fields["household_id"])
	require.Positive(t, resent, "her laptop said it sent again what the restored server lost")
	held, err := m.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "team B's laptop holds her visit")
	require.Equal(t, r.Fields, held.Fields, "team B's laptop holds the visit a fresh clone holds")
	_, err = a.Show(ctx, "visits", visit.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "her laptop holds no record outside her team's hamlets")
	requireNoneRefused(t, a)
	equalsFreshClone(t, ts2, ts.TeamA, a)

	// The household comes back to her team's hamlet: her visit comes back
	// with it, as the server holds it, and her laptop names no loss.
	tick()
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": h}))
	realSync(t, m, ts2, tm)
	realSync(t, a, ts2, ta)
	realSync(t, a, ts2, ta)
	r, err = a.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "her visit came back with the household")
	require.Equal(t, "cài VNeID mức 2", r.Fields["notes"])
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs, "her laptop names no loss of her own visit")
	equalsFreshClone(t, ts2, ts.TeamA, a)
}

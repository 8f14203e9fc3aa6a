package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredLogALogBackfillCutBeforeCountsOnce: a laptop on a server of
// a release without snapshots back-fills a gained hamlet from its log; the
// back-fill is cut after its first pages, and the server is restored from
// a backup (a new log epoch). The back-fill started again from the first
// change (d8d0c62 forgets its position and its running count); told with
// the old count kept, it said it brought more changes than the hamlet has.
// A new log epoch now re-clones (the replica it pulled may hold versions
// the restored log lacks): the back-fill is moot, its count never told,
// and the laptop holds what a fresh clone does, the gained hamlet
// included.
func TestRestoredLogALogBackfillCutBeforeCountsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	dev := ts.NewDevice(t, teamC.ID)
	c := ts.Connect(t, dev)
	require.NoError(t, c.PushAll(servertest.HouseholdChanges(servertest.NewWriter(dev.Replica, nil), gained, 30*10), 2000, 4))
	c.Close()
	l, tl := realAgent(t, ts, ts.TeamA)
	realSync(t, l, ts, tl)
	_, err = l.DB().ExecContext(ctx, `INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('snapshot_unsupported', 1)`)
	require.NoError(t, err)
	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	restore := backupNow(t, ts)

	// The back-fill stops after its first pages.
	cctx, stop := context.WithCancel(ctx)
	_, err = l.Sync(cctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, PullLimit: 50,
		Progress: func(p agent.Progress) {
			if p.Phase == "backfill" && p.Done >= 100 {
				stop()
			}
		}})
	stop()
	require.Error(t, err, "the back-fill was stopped half-way")

	ts2 := restore()
	require.NotZero(t, ts2.Server.LogEpoch())
	sum := realSync(t, l, ts2, tl)
	require.Positive(t, sum.Cloned, "a new log epoch re-clones")
	require.True(t, sum.ScopeChange == nil || len(sum.ScopeChange.Filled) == 0, "the back-fill the re-clone made moot is not told: %+v", sum.ScopeChange)
	equalsFreshClone(t, ts2, ts2.TeamA, l)
}

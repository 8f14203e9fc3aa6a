package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredLogBackfillThatLostAHamletCountsAgain: a laptop on a server
// without snapshots back-fills two gained hamlets, h3 (300 changes) and h4
// (200), from their log; the back-fill is cut after its first pages, the
// team loses h3 (the back-fill is noted partial: its count holds h3's
// changes), and it is cut again. The server is then restored from a backup
// (a new log epoch): the back-fill started again from the first change,
// for h4 alone, its count with it, and the partial mark of the count
// forgotten had to go with it, or the volunteer was told h4 without its
// count. A new log epoch now re-clones (the replica it pulled may hold
// versions the restored log lacks): the back-fill is moot, told neither
// with a count kept nor without one, and the laptop holds what a fresh
// clone does, h4 included.
func TestRestoredLogBackfillThatLostAHamletCountsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	h3, h4 := ts.OtherHamletA, schema.HamletCode(servertest.CommuneA, 4)
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{h3, h4})
	require.NoError(t, err)
	dev := ts.NewDevice(t, teamC.ID)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	require.NoError(t, c.PushAll(append(servertest.HouseholdChanges(w, h3, 30*10), servertest.HouseholdChanges(w, h4, 20*10)...), 2000, 4))
	c.Close()
	l, tl := realAgent(t, ts, ts.TeamA)
	realSync(t, l, ts, tl)
	_, err = l.DB().ExecContext(ctx, `INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('snapshot_unsupported', 1)`)
	require.NoError(t, err)
	for _, h := range []string{h3, h4} {
		changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, h)
		require.NoError(t, err)
		require.True(t, changed)
	}
	cut := func(after int) {
		t.Helper()
		cctx, stop := context.WithCancel(ctx)
		defer stop()
		_, err := l.Sync(cctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, PullLimit: 50,
			Progress: func(p agent.Progress) {
				if p.Phase == "backfill" && p.Done >= after {
					stop()
				}
			}})
		require.Error(t, err, "the back-fill was stopped part-way")
	}
	cut(100) // h3's first changes stored
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h3)
	require.NoError(t, err)
	require.True(t, changed)
	cut(50) // the loss noted, h4's first changes stored
	restore := backupNow(t, ts)

	ts2 := restore()
	require.NotZero(t, ts2.Server.LogEpoch())
	sum := realSync(t, l, ts2, tl)
	require.Positive(t, sum.Cloned, "a new log epoch re-clones")
	require.True(t, sum.ScopeChange == nil || len(sum.ScopeChange.Filled) == 0, "the back-fill the re-clone made moot is not told: %+v", sum.ScopeChange)
	equalsFreshClone(t, ts2, ts2.TeamA, l)
}

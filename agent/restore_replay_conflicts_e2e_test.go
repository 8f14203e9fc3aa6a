package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A back-fill of a gained hamlet cut before a server restore: under the new
// epoch the laptop's cursor goes to 0 (the log is replayed), but the
// back-fill's hamlets stay noted, so the back-fill runs again at the
// server's head, and the replay from 0 then brings each field's earlier
// writes against the head's version: 10 conflicts nobody made, listed for
// the volunteer (helper 139's review of 613ff28; the values were right).
func TestRestoreReplayAfterACutBackfillListsNoConflicts(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	var edited []uuid.UUID
	for i := range 40 {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C", "notes": fmt.Sprintf("số %d", i)})
		require.NoError(t, err)
		if i%4 == 0 {
			edited = append(edited, id)
		}
	}
	realSync(t, c, ts, tc)
	for round := 1; round <= 2; round++ { // each edited household's notes written three times in the log
		for _, id := range edited {
			require.NoError(t, c.EditHousehold(ctx, id, agent.Fields{"notes": fmt.Sprintf("sửa lần %d", round)}))
		}
		realSync(t, c, ts, tc)
	}
	realSync(t, a, ts, ta)
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	restore := backupNow(t, ts)

	// A's back-fill of the gained hamlet stops after its first chunk.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = a.Sync(cctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 10, Progress: func(p agent.Progress) {
		if p.Phase == "backfill" {
			cancel()
		}
	}})
	require.Error(t, err)
	_, backfilling, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{gained}, backfilling)

	ts2 := restore()
	require.NotZero(t, ts2.Server.LogEpoch())
	sum, err := a.Sync(ctx, ts2.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Equal(t, 40, rowsByHamlet(t, a)[gained])
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, sum.Conflicts, "no one wrote against anyone")
	require.Zero(t, st.Conflicts, "no conflict listed on A")
	for _, id := range edited {
		d, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err)
		require.Equal(t, "sửa lần 2", d.Fields["notes"], id)
	}
}

// A laptop whose rows came by a snapshot clone (each field at its
// latest write), then a restore: the replay from 0 brought those fields'
// older writes as 10 conflicts (helper 139; older than the epoch: stop 43's
// replay when the cursor is past the head did the same).
func TestRestoreReplayAfterACloneListsNoConflicts(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	c, tc := realAgent(t, ts, ts.TeamA)
	var edited []uuid.UUID
	for i := range 40 {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ C", "notes": fmt.Sprintf("số %d", i)})
		require.NoError(t, err)
		if i%4 == 0 {
			edited = append(edited, id)
		}
	}
	realSync(t, c, ts, tc)
	for round := 1; round <= 2; round++ {
		for _, id := range edited {
			require.NoError(t, c.EditHousehold(ctx, id, agent.Fields{"notes": fmt.Sprintf("sửa lần %d", round)}))
		}
		realSync(t, c, ts, tc)
	}
	a, ta := realAgent(t, ts, ts.TeamA)
	s1, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Positive(t, s1.Cloned, "A cloned by snapshot")
	restore := backupNow(t, ts)
	ts2 := restore()
	sum, err := a.Sync(ctx, ts2.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	st, err := a.Status(ctx)
	require.NoError(t, err)
	for _, id := range edited {
		d, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err)
		require.Equal(t, "sửa lần 2", d.Fields["notes"], id)
	}
	require.Zero(t, sum.Conflicts, "no one wrote against anyone")
	require.Zero(t, st.Conflicts)
}

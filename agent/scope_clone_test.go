package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A hamlet gained while a clone is cut half-way: its rows must all arrive
// (found in review: the resumed clone asked for the new scope after the
// stored position, so the gained hamlet's rows sorting before it never
// came).
func TestScopeGainedDuringACloneArrives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	fillCommune(t, ts, 200)
	c, tc := realAgent(t, ts, teamC.ID)
	for i := 0; i < 40; i++ {
		_, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C " + itoa(i)})
		require.NoError(t, err)
	}
	realSync(t, c, ts, tc)

	r, tr := realAgent(t, ts, ts.TeamA)
	cctx, cancel := context.WithCancel(ctx)
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 10}
	opts.Progress = func(p agent.Progress) {
		if p.Phase == "clone" && p.Done >= 60 {
			cancel()
		}
	}
	_, err = r.Sync(cctx, ts.URL, tr, opts)
	t.Logf("cut sync: %v", err)

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	s, err := r.Sync(ctx, ts.URL, tr, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Logf("resumed: cloned %d pulled %d", s.Cloned, s.Pulled)
	got := rowsByHamlet(t, r)
	require.Equal(t, 40, got[gained], "every household of the gained hamlet")
}

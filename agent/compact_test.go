package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// CompactHistory drops the overwritten versions of synced rows and keeps
// current values, versions lost to concurrent writes, and the history of
// rows with changes still waiting to be pushed (a refused write rolls back
// to the version it overwrote).
func TestCompactHistoryKeepsWhatSyncNeeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	hamlet := ts.HamletsA[0]
	synced, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Văn Tám", "phone": "0911111111"})
	require.NoError(t, err)
	pending, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trần Thị Chín", "phone": "0922222222"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	for _, p := range []string{"0911111112", "0911111113"} {
		require.NoError(t, a.EditHousehold(ctx, synced, agent.Fields{"phone": p}))
	}
	realSync(t, a, ts, ta)
	require.NoError(t, a.EditHousehold(ctx, pending, agent.Fields{"phone": "0922222223"})) // not pushed

	versions := func(id string) int {
		d, err := a.Show(ctx, "households", id)
		require.NoError(t, err)
		for _, h := range d.History {
			if h.Field == "phone" {
				return len(h.Versions)
			}
		}
		return 0
	}
	require.Equal(t, 3, versions(synced.String()))
	require.Equal(t, 2, versions(pending.String()))

	dropped, err := a.CompactHistory(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, dropped, "the synced row's two overwritten phones")
	require.Equal(t, 1, versions(synced.String()))
	require.Equal(t, 2, versions(pending.String()), "a row with a change to push keeps its history")
	d, err := a.Show(ctx, "households", synced.String())
	require.NoError(t, err)
	require.Equal(t, "0911111113", d.Fields["phone"])

	// The compacted replica still syncs and merges: a teammate's edit
	// arrives, and its own pending change goes out.
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	require.NoError(t, b.EditHousehold(ctx, synced, agent.Fields{"head_name": "Lê Văn Tám (chủ hộ mới)"}))
	realSync(t, b, ts, tb)
	s := realSync(t, a, ts, ta)
	require.Equal(t, 1, s.Pushed)
	d, err = a.Show(ctx, "households", synced.String())
	require.NoError(t, err)
	require.Equal(t, "Lê Văn Tám (chủ hộ mới)", d.Fields["head_name"])
	require.Equal(t, "0911111113", d.Fields["phone"])
}

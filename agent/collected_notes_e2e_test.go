package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCollectedRowLeavesNoNotes: a household the volunteer added and then
// deleted is collected everywhere once every device holds its tombstone
// (gc.go). The server drops it for good: no snapshot and no move brings it
// back, so nothing of its writes is to be compared with a loss later. A
// collection that noted them as a drop does (keepRowAway, taken) left them
// in own_away until the bound (maxTakenNotes): one note per field of every
// row she ever wrote and deleted, each keeping anyAway true for every pull.
func TestCollectedRowLeavesNoNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hamlet := ts.HamletsA[0]

	gone, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, b, ts, tb)

	require.NoError(t, a.Delete(ctx, "households", gone))
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, b, ts, tb) // tells the server B stored the tombstone
	realSync(t, a, ts, ta)
	gc, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, gc.Rows)

	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Collected, "%+v", sum)
	st, data, tomb := holds(t, a, gone)
	require.Equal(t, [3]int{0, 0, 0}, [3]int{st, data, tomb})
	var n int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away WHERE row_id = ?`, gone.String()).Scan(&n))
	require.Zero(t, n, "a collected row notes none of its writes")
}

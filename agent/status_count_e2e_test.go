package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestStatusCountsLiveHouseholds: status counts the households not
// deleted, whichever way a row got there (written here, pulled from a
// teammate, deleted, restored). It counts them as all rows less the
// deleted ones, which SQLite counts page by page (issue 20).
func TestStatusCountsLiveHouseholds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	households := func(r *agent.Replica) int {
		s, err := r.Status(ctx)
		require.NoError(t, err)
		return s.Households
	}
	require.Zero(t, households(a))
	var ids []syncproto.RowID
	for _, head := range []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"} {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": head})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.Equal(t, 3, households(a))
	require.NoError(t, a.Delete(ctx, "households", ids[0]))
	require.Equal(t, 2, households(a), "a deleted household is not counted")
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	require.Equal(t, 2, households(b), "pulled: the deleted one is not counted")
	require.NoError(t, b.Delete(ctx, "households", ids[1]))
	require.NoError(t, b.Restore(ctx, "households", ids[0]))
	require.Equal(t, 2, households(b))
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	require.Equal(t, 2, households(a), "one restored, another deleted")
}

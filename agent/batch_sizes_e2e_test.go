package agent_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// batchCounts are row counts around each of the multi-row statements'
// sizes (64, 16, 4, 1) and their sums: a row lost or shifted at a cut
// between two statements shows at one of them.
var batchCounts = []int{1, 2, 3, 4, 5, 15, 16, 17, 20, 21, 63, 64, 65, 68, 69, 80, 81, 84, 85, 127, 128, 129}

// requireHouseholdsWhole: the replica holds want households, each with the
// fields servertest.HouseholdChanges gave its index (head_name "Nguyễn
// Văn i", phone 09i, members_count 1+i%8): no row lost, none with
// another's values.
func requireHouseholdsWhole(t *testing.T, r *agent.Replica, want int, what string) {
	t.Helper()
	ctx := context.Background()
	hs, err := r.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, want, len(hs), what)
	for _, h := range hs {
		var i int
		_, err := fmt.Sscanf(h.Str("head_name"), "Nguyễn Văn %d", &i)
		require.NoError(t, err, "%s: %v", what, h.Fields)
		require.Equal(t, fmt.Sprintf("09%08d", i), h.Str("phone"), "%s: %v", what, h.Fields)
		require.Equal(t, int64(1+i%8), h.Fields["members_count"], "%s: %v", what, h.Fields)
	}
	require.NoError(t, r.Check(ctx), what)
}

// TestBatchSizesPullCloneImport: pulls of n households (one saveMany of
// n states), clones in chunks of k rows and imports of n rows, for n and
// k around each batch size, keep every row with its own values and its
// projection equal to its versions.
func TestBatchSizesPullCloneImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	realSync(t, a, ts, ta)
	dev := ts.NewDevice(t, ts.TeamA)
	w := servertest.NewWriter(dev.Replica, nil)
	total := 0
	for _, n := range batchCounts {
		c := ts.Connect(t, dev)
		cs := servertest.HouseholdChanges(w, ts.HamletsA[0], n*10)
		require.NoError(t, c.PushAll(cs, 2000, 4))
		c.Close()
		total += n
		realSync(t, a, ts, ta)
		requireHouseholdsWhole(t, a, total, fmt.Sprintf("pull of %d", n))
	}
	for _, k := range []uint32{3, 4, 5, 16, 17, 63, 64, 65, 129} {
		// Not realAgent: its cleanup would check each clone again, as
		// requireHouseholdsWhole has just done with nothing changed since
		// (a second Check of 1,147 rows per clone). Each clone is closed
		// once checked.
		b, err := agent.Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() }) // if a check below stops the test
		tb, eb, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		require.NotEmpty(t, eb.Scope)
		_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: k})
		require.NoError(t, err)
		requireHouseholdsWhole(t, b, total, fmt.Sprintf("clone in chunks of %d", k))
		require.NoError(t, b.Close())
	}

	e, err := a.Enrollment(ctx)
	require.NoError(t, err)
	imported := 0
	for round, n := range batchCounts {
		s := &agent.ImportSheet{Rows: [][]string{{"Họ tên chủ hộ", "Ấp", "Số điện thoại", "Số nhân khẩu"}}}
		for i := 0; i < n; i++ {
			j := 100000 + round*1000 + i
			s.Rows = append(s.Rows, []string{fmt.Sprintf("Nguyễn Văn %d", j), e.Scope[1].Name, fmt.Sprintf("09%08d", j), fmt.Sprint(1 + j%8)})
		}
		res, err := a.Import(ctx, s, agent.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, n, res.Imported)
		imported += n
		requireHouseholdsWhole(t, a, total+imported, fmt.Sprintf("import of %d", n))
	}
}

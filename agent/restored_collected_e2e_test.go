package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredLaptopLearnsOfACollectedDelete (review 31 E2): a laptop's
// disk is restored from a backup taken before a teammate deleted a
// household. Before the restore the laptop had pulled and acknowledged the
// delete, so the server, counting it, collected the row. The restored
// replica holds the household live and pulls from the backup's cursor,
// below the collected tombstone, which no log holds any more. It must not
// keep the household live for good: it learns it is gone (the collection
// raised the hamlet's floor above its cursor, so it clones again).
func TestRestoredLaptopLearnsOfACollectedDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	open, path, backup := replicaFile(t)
	hamlet := ts.HamletsA[0]

	l := open()
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Đặng Văn Hùng"})
	require.NoError(t, err)
	kept, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Hồ Thị Mai"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	require.NoError(t, l.Close())
	restoreFile(t, path, backup) // the backup: the household live

	l = open()
	require.NoError(t, m.Delete(ctx, "households", hh))
	realSync(t, m, ts, tm)
	for range 2 {
		realSync(t, l, ts, tl)
		realSync(t, m, ts, tm)
	}
	gc, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, gc.Rows, "every device acknowledged the delete: the row is collected")

	require.NoError(t, l.Close())
	restoreFile(t, backup, path)
	l = open()
	s := realSync(t, l, ts, tl)
	require.Positive(t, s.Cloned, "the restored laptop's cursor is below the floor the collection raised: it clones again")
	realSync(t, l, ts, tl)

	_, err = l.Show(ctx, "households", hh.String())
	require.ErrorIs(t, err, agent.ErrNotFound, "the restored laptop still shows the household deleted and collected since its backup")
	d, err := l.Show(ctx, "households", kept.String())
	require.NoError(t, err)
	require.Equal(t, "Hồ Thị Mai", d.Fields["head_name"])

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the restored laptop equals the server\n%s", diffSnap(want, got))
}

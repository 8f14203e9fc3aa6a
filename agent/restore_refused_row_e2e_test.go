package agent_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredServerReclonesARowWithARefusedChange: a laptop with a
// refused change on a household (in its rejected list) pulled a teammate's
// edit of that household after the backup; the server is restored, the
// teammate never syncs again. The re-clone kept the row (metaResentKeep)
// and merged the snapshot into it field by field: the lost edit, later
// than anything the restored server holds, stayed, even after the refusal
// was discarded (helper 308; the replay before e69c645 kept it too).
func TestRestoredServerReclonesARowWithARefusedChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	var skew atomic.Int64
	ahead := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	a, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "a.db"), agent.Options{Now: ahead})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	b, tb := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ trước sao lưu", "registered_on": day(-10)})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)

	skew.Store(int64(5 * 24 * time.Hour))
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"registered_on": day(3)}))
	realSync(t, a, ts, ta)
	skew.Store(0)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "%+v", rej)
	restore := backupNow(t, ts)

	teammatePhoneAfterBackup(t, ts, a, ta, b, tb, hh)

	ts2 := restore()
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Empty(t, d.Fields["phone"], "after the re-clone, the laptop keeps no lost phone")
	// The volunteer discards the refused date; the row is synced again.
	rej, err = a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "%+v", rej)
	require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	d, err = a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Empty(t, d.Fields["phone"], "after the discard")
	equalsFreshClone(t, ts2, ts2.TeamA, a)
}

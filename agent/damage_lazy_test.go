package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncReadsTheFileBeforeItWritesRecords: the damage check (SQLite's
// quick_check, every page read) runs before a sync writes a record; a sync
// with nothing to send or receive skips it (it was most of a no-op sync's
// time), but never for more than a day: damage no write has met yet is
// found by the first sync a day after the last check, and from then on
// the replica takes no write.
func TestSyncReadsTheFileBeforeItWritesRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
	require.NoError(t, err)
	tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	for i := 0; i < 300; i++ {
		_, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ số " + time.Duration(i).String(), "address": "Số nhà dài cho đủ nhiều trang dữ liệu"})
		require.NoError(t, err)
	}
	_, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	require.NoError(t, err)
	var page int64
	require.NoError(t, r.DB().QueryRow(`SELECT max(pageno) FROM dbstat WHERE name = 'households' AND pagetype = 'leaf'`).Scan(&page))
	require.NoError(t, r.Close())

	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = 0xA5
	}
	_, err = f.WriteAt(junk, (page-1)*4096)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r, err = agent.OpenWith(ctx, path, agent.Options{Now: now})
	require.NoError(t, err)
	defer r.Close()
	s, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	require.NoError(t, err, "nothing to send or receive, checked less than a day ago")
	require.Zero(t, s.Pushed+s.Pulled)

	offset.Store(int64(25 * time.Hour))
	_, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	var fe *agent.FileError
	require.ErrorAs(t, err, &fe, "a day later the check runs and finds the damage")
	require.ErrorIs(t, err, agent.ErrCorrupt)
	_, err = r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Sau khi hỏng"})
	require.ErrorIs(t, err, agent.ErrCorrupt, "a replica found damaged takes no write")
}

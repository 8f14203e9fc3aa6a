package pgstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A SQLite store whose top log entries GC removed keeps its head in
// server_meta gc_head; the copy on PostgreSQL must not hand those seqs out
// again (found in review: the head was set from max(seq) and max(cursor)).
func TestCopyFromSQLiteKeepsCollectedHead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ts := servertest.Start(t, servertest.WithDataDir(dir))
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	h := ts.HamletsA[0]
	row := uuid.New()
	_, err := c.Push(1, []syncproto.Change{w.Write("households", row, "hamlet_code", syncproto.String(h), h),
		w.Write("households", row, "head_name", syncproto.String("Hộ"), h),
		w.Write("households", row, "members_count", syncproto.Int(2), h)})
	require.NoError(t, err)
	_, err = c.Push(2, []syncproto.Change{w.Write("households", row, syncproto.TombstoneField, syncproto.Bool(true), h)})
	require.NoError(t, err)
	c.Close()
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h) // no device covers h now
	require.NoError(t, err)
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	ts.Close()

	src, err := sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	defer src.Close()
	head, err := src.Head(ctx)
	require.NoError(t, err)
	require.Positive(t, head)
	pg, err := Open(ctx, pgtest.MigratedDB(t, Migrate), Options{Logger: servertest.Logger()})
	require.NoError(t, err)
	defer pg.Close()
	_, err = pg.CopyFromSQLite(ctx, src, 100, nil)
	require.NoError(t, err)
	pgHead, err := pg.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, head, pgHead, "the PostgreSQL head went back below the SQLite head")
}

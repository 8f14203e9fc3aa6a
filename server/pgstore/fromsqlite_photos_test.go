package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// A SQLite deployment keeps its photos as files beside hamlet.db, outside
// its tables: migrate-store must carry them, bytes and collection marks
// included, or the reports on PostgreSQL name photos nobody can open
// (found when migrate-store failed on the photos' tables).
func TestCopyFromSQLiteCarriesPhotos(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	defer src.Close()
	at := time.UnixMilli(1_790_000_000_000)
	blob := func(content string) (string, []byte) {
		b := []byte(content)
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:]), b
	}
	kept, keptData := blob("a photo's bytes")
	old, oldData := blob("a photo no report names any more")
	thumb := kept + ".thumb"
	require.True(t, server.ValidBlobKey(thumb), "thumbnail key form changed: update this test")
	require.NoError(t, src.PutBlob(ctx, kept, keptData, at))
	require.NoError(t, src.PutBlob(ctx, thumb, []byte("thumb"), at))
	require.NoError(t, src.PutBlob(ctx, old, oldData, at))
	since := at.Add(time.Hour)
	require.NoError(t, src.MarkBlob(ctx, old, &since))
	unfinished, _ := blob("an upload cut half way")
	_, err = src.AppendUpload(ctx, unfinished, 0, []byte("an upload"), at)
	require.NoError(t, err)

	pg, err := Open(ctx, pgtest.MigratedDB(t, Migrate), Options{})
	require.NoError(t, err)
	defer pg.Close()
	tables, err := pg.CopyFromSQLite(ctx, src, 100, nil)
	require.NoError(t, err)
	var photos *TableCopy
	for i := range tables {
		if tables[i].Table == "blobs" {
			photos = &tables[i]
		}
	}
	require.NotNil(t, photos, "migrate-store reports no photos")
	require.EqualValues(t, 3, photos.Rows)

	got, err := pg.Blob(ctx, kept)
	require.NoError(t, err)
	require.Equal(t, keptData, got)
	got, err = pg.Blob(ctx, thumb)
	require.NoError(t, err)
	require.Equal(t, []byte("thumb"), got)
	info, err := pg.StatBlob(ctx, old)
	require.NoError(t, err)
	require.NotNil(t, info.Unreferenced, "the collection mark was lost: the grace period would start again")
	require.Equal(t, since.UnixMilli(), info.Unreferenced.UnixMilli())
	n, err := pg.UploadLength(ctx, unfinished)
	require.NoError(t, err)
	require.Zero(t, n, "an unfinished upload starts again from its beginning")
}

package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// A backup holds the photos as well as the database: restored (the file
// as hamlet.db, its .blobs directory as blobs/), the server serves every
// photo it served before, also one collection removed after the backup
// (found when a restored deployment named photos it no longer had).
func TestBackupCarriesThePhotos(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	defer st.Close()
	photos := map[string][]byte{}
	for _, content := range []string{"photo one", "photo two"} {
		h := sha256.Sum256([]byte(content))
		key := hex.EncodeToString(h[:])
		photos[key] = []byte(content)
		require.NoError(t, st.PutBlob(ctx, key, []byte(content), time.UnixMilli(1_790_000_000_000)))
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, st.Backup(ctx, out))
	for key := range photos {
		require.NoError(t, st.DeleteBlob(ctx, key)) // collected after the backup
	}

	restored := t.TempDir()
	require.NoError(t, os.Rename(out, filepath.Join(restored, sqlitestore.DBFile)))
	require.NoError(t, os.Rename(sqlitestore.BackupBlobsDir(out), filepath.Join(restored, "blobs")))
	back, err := sqlitestore.Open(ctx, filepath.Join(restored, sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	defer back.Close()
	for key, want := range photos {
		got, err := back.Blob(ctx, key)
		require.NoError(t, err, "the restored server lost a photo")
		require.Equal(t, want, got)
	}
}

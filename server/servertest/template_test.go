package servertest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestOpenStoreCopiesAFreshStore: a store OpenStore starts from the
// template is one sqlitestore.Open would have made from nothing (the same
// schema and migrations), and each gets its own server id, as two
// servers made from nothing do.
func TestOpenStoreCopiesAFreshStore(t *testing.T) {
	ctx := context.Background()
	open := func(fromTemplate bool) (string, syncproto.ReplicaID) {
		dir := t.TempDir()
		var st *sqlitestore.Store
		var err error
		if fromTemplate {
			st, err = OpenStore(ctx, dir, "")
		} else {
			st, err = sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{})
		}
		require.NoError(t, err)
		id, err := st.ServerID(ctx)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		return storeDump(t, filepath.Join(dir, sqlitestore.DBFile)), id
	}
	fresh, freshID := open(false)
	copied, copiedID := open(true)
	_, otherID := open(true)
	require.Equal(t, fresh, copied)
	require.NotEqual(t, freshID, copiedID)
	require.NotEqual(t, copiedID, otherID, "two stores copied from the template share a server id")
}

// storeDump is migratetest.Dump of the store file at path: its schema and
// the migrations recorded (no SQL of its own here: archtest keeps SQL in
// the stores).
func storeDump(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	return migratetest.Dump(t, db)
}

package server_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// openDB opens the test server's database read-only for assertions.
func openDB(t *testing.T, ts *servertest.TS) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir, sqlitestore.DBFile)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

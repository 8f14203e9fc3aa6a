package sqlitetest

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

func open(t testing.TB, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, sqlitestore.DBFile)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Refusals is how many refused changes the store keeps (sync_refused).
func Refusals(t testing.TB, dataDir string) int {
	t.Helper()
	var n int
	require.NoError(t, open(t, dataDir).QueryRow(`SELECT count(*) FROM sync_refused`).Scan(&n))
	return n
}

// Column is a materialised row's column as text.
func Column(t testing.TB, dataDir, table, id, column string) string {
	t.Helper()
	tb, ok := schema.LookupTable(table)
	require.True(t, ok, "table %s", table)
	_, ok = tb.Field(column)
	require.True(t, ok, "column %s.%s", table, column)
	var v string
	require.NoError(t, open(t, dataDir).QueryRow(`SELECT `+column+` FROM `+tb.Name+` WHERE id = ?`, id).Scan(&v))
	return v
}

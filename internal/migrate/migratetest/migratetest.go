package migratetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
)

// OpenSQLite opens a fresh SQLite file in t.TempDir and closes it on cleanup.
// A file rather than ":memory:" because database/sql may open several
// connections and each would get its own empty in-memory database.
func OpenSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "test.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Dump returns the schema of db as sorted "type name: sql" lines together
// with the schema_migrations rows, so two databases can be compared whole.
func Dump(t testing.TB, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	rows, err := db.Query(`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var typ, name, tbl, text string
		require.NoError(t, rows.Scan(&typ, &name, &tbl, &text))
		fmt.Fprintf(&b, "%s %s on %s: %s\n", typ, name, tbl, text)
	}
	require.NoError(t, rows.Err())
	mrows, err := db.Query(`SELECT set_name, version, name FROM schema_migrations ORDER BY set_name, version`)
	require.NoError(t, err)
	defer mrows.Close()
	for mrows.Next() {
		var set, name string
		var v int
		require.NoError(t, mrows.Scan(&set, &v, &name))
		fmt.Fprintf(&b, "migration %s %d %s\n", set, v, name)
	}
	require.NoError(t, mrows.Err())
	return b.String()
}

// UpgradeFromEveryVersion applies migs to an empty database, then for every
// k in 1..n-1 applies 1..k, reopens, and applies the rest; every path must
// end in the same schema. That is what a replica on any older release sees.
func UpgradeFromEveryVersion(t *testing.T, set string, migs []migration.Migration) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, migration.CheckSet(set, migs))

	fresh := OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, fresh, set, migs))
	v, err := migrate.Current(ctx, fresh, set)
	require.NoError(t, err)
	require.Equal(t, len(migs), v)
	want := Dump(t, fresh)

	// Applying again must be a no-op.
	require.NoError(t, migrate.Apply(ctx, fresh, set, migs))
	require.Equal(t, want, Dump(t, fresh))

	for k := 1; k < len(migs); k++ {
		t.Run(fmt.Sprintf("from_v%d", k), func(t *testing.T) {
			db := OpenSQLite(t)
			require.NoError(t, migrate.Apply(ctx, db, set, migs[:k]))
			got, err := migrate.Current(ctx, db, set)
			require.NoError(t, err)
			require.Equal(t, k, got)
			require.NoError(t, migrate.Apply(ctx, db, set, migs))
			require.Equal(t, want, Dump(t, db))
		})
	}
}

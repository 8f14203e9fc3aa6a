package migrate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/internal/migration"
)

var sample = []migration.Migration{
	{Version: 1, Name: "people", SQL: `CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT);`},
	{Version: 2, Name: "people_phone", SQL: `ALTER TABLE people ADD COLUMN phone TEXT;
CREATE INDEX people_phone ON people(phone);`},
	{Version: 3, Name: "places", SQL: `CREATE TABLE places (code TEXT PRIMARY KEY);
INSERT INTO places VALUES ('96');`},
}

func TestUpgradeFromEveryVersion(t *testing.T) {
	migratetest.UpgradeFromEveryVersion(t, "sample", sample)
}

func TestFromEmpty(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	v, err := migrate.Current(ctx, db, "sample")
	require.NoError(t, err)
	require.Equal(t, 0, v)

	// Out of order on input: Apply sorts.
	require.NoError(t, migrate.Apply(ctx, db, "sample", []migration.Migration{sample[2], sample[0], sample[1]}))
	v, err = migrate.Current(ctx, db, "sample")
	require.NoError(t, err)
	require.Equal(t, 3, v)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM places`).Scan(&n))
	require.Equal(t, 1, n, "data migrations run exactly once")
}

func TestSetsAreIndependent(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, db, "sample", sample))
	other := []migration.Migration{{Version: 1, Name: "other", SQL: `CREATE TABLE other (x INTEGER);`}}
	require.NoError(t, migrate.Apply(ctx, db, "server", other))
	v, err := migrate.Current(ctx, db, "server")
	require.NoError(t, err)
	require.Equal(t, 1, v)
	v, err = migrate.Current(ctx, db, "sample")
	require.NoError(t, err)
	require.Equal(t, 3, v)
}

func TestRefusesNewerDatabase(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, db, "sample", sample))
	before := migratetest.Dump(t, db)

	err := migrate.Apply(ctx, db, "sample", sample[:2])
	require.ErrorIs(t, err, migrate.ErrNewerThanCode)
	var ne *migrate.NewerError
	require.True(t, errors.As(err, &ne))
	require.Equal(t, migrate.NewerError{Set: "sample", Database: 3, Code: 2}, *ne)
	require.Equal(t, before, migratetest.Dump(t, db))
}

func TestFailingMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	broken := []migration.Migration{
		sample[0],
		{Version: 2, Name: "broken", SQL: `CREATE TABLE half (x INTEGER);
INSERT INTO people VALUES ('a', 'b');
INSERT INTO no_such_table VALUES (1);`},
	}
	err := migrate.Apply(ctx, db, "sample", broken)
	require.ErrorContains(t, err, "version 2 (broken)")

	v, err := migrate.Current(ctx, db, "sample")
	require.NoError(t, err)
	require.Equal(t, 1, v)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n))
	require.Zero(t, n, "table from the failed migration must not survive")
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM people`).Scan(&n))
	require.Zero(t, n, "rows from the failed migration must not survive")

	// Fixing the step lets the same database move on.
	require.NoError(t, migrate.Apply(ctx, db, "sample", sample))
}

func TestRefusesRenamedStep(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, db, "sample", sample[:1]))
	renamed := append([]migration.Migration{{Version: 1, Name: "persons", SQL: sample[0].SQL}}, sample[1:]...)
	require.ErrorContains(t, migrate.Apply(ctx, db, "sample", renamed), "never be renamed")
}

func TestCheckSet(t *testing.T) {
	m := func(v int, name string) migration.Migration {
		return migration.Migration{Version: v, Name: name, SQL: "SELECT 1;"}
	}
	tests := []struct {
		name string
		set  string
		migs []migration.Migration
		err  string
	}{
		{"ok", "s", []migration.Migration{m(1, "a"), m(2, "b")}, ""},
		{"empty list", "s", nil, ""},
		{"gap", "s", []migration.Migration{m(1, "a"), m(3, "c")}, "expected version 2, found 3"},
		{"not from one", "s", []migration.Migration{m(2, "b")}, "expected version 1, found 2"},
		{"duplicate", "s", []migration.Migration{m(1, "a"), m(1, "b")}, "appears twice"},
		{"bad set name", "s'; DROP", []migration.Migration{m(1, "a")}, "set name"},
		{"bad migration name", "s", []migration.Migration{m(1, "a'b")}, "name"},
		{"empty sql", "s", []migration.Migration{{Version: 1, Name: "a"}}, "no SQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := migration.CheckSet(tt.set, tt.migs)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
			// Apply must refuse the same list before touching the database.
			db := migratetest.OpenSQLite(t)
			require.Error(t, migrate.Apply(context.Background(), db, tt.set, tt.migs))
			var n int
			require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n))
			require.Zero(t, n)
		})
	}
}

package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/schema"
)

func TestVersionsSupportThePrevious(t *testing.T) {
	require.Equal(t, 3, schema.Version)
	require.Equal(t, 1, schema.MinSupportedVersion, "schemas 2 and 3 are additive: agents at 1 keep syncing")
	require.Equal(t, schema.Version, schema.Current().Version())
	_, err := schema.At(schema.Version + 1)
	require.Error(t, err)
}

// The rules of docs/PROTOCOL.md "Schema evolution" that code can check: a
// field added after version 1 is optional (an older agent can never fill
// it), is added by a migration marked with its version, and its name was
// never used before.
func TestAddedFieldsAreAdditive(t *testing.T) {
	migs := schema.SQLiteMigrations()
	added := 0
	for _, tb := range schema.SyncedTables() {
		for _, f := range tb.Fields {
			if f.Since <= 1 {
				continue
			}
			added++
			require.LessOrEqual(t, f.Since, schema.Version, f.Name)
			require.False(t, f.Required, "%s.%s: a field an older agent cannot fill must be optional", tb.Name, f.Name)
			found := false
			for _, m := range migs {
				v, err := schema.MigrationSchemaVersion(m)
				require.NoError(t, err)
				if strings.Contains(m.SQL, "ADD COLUMN "+f.Name+" ") {
					require.Equal(t, f.Since, v, "migration %s is marked for the field's version", m.Name)
					found = true
				}
			}
			require.True(t, found, "%s.%s has an ADD COLUMN migration", tb.Name, f.Name)
			require.Equal(t, f.Since, schema.AddedIn(tb.Name, f.Name))
		}
	}
	require.Equal(t, 2, added, "uses_camau_g, photo_digests")
	require.Equal(t, 2, schema.AddedIn("households", "uses_camau_g"))
	require.Equal(t, 3, schema.AddedIn("field_reports", "photo_digests"))
	require.Equal(t, 1, schema.AddedIn("households", "vneid_level2"))
	require.Zero(t, schema.AddedIn("households", "no_such_field"))
}

func TestRegistryAtVersion1(t *testing.T) {
	v1, err := schema.At(1)
	require.NoError(t, err)
	require.Equal(t, 1, v1.Version())
	hh, ok := v1.Table("households")
	require.True(t, ok)
	_, ok = hh.Field("uses_camau_g")
	require.False(t, ok, "schema 1 does not know the field")
	_, err = hh.NormalizeValue("uses_camau_g", true)
	require.Error(t, err)
	cur, _ := schema.Current().Table("households")
	require.Len(t, hh.Fields, len(cur.Fields)-1)
	_, ok = cur.Field("uses_camau_g")
	require.True(t, ok)
	// The shared registry is not modified by At.
	full, _ := schema.LookupTable("households")
	_, ok = full.Field("uses_camau_g")
	require.True(t, ok)

	v0, err := schema.At(0)
	require.NoError(t, err)
	require.Equal(t, 0, v0.Version())
	require.Len(t, v0.SQLiteMigrations(), len(v1.SQLiteMigrations()))
}

// A database laid out by schema 1's migrations upgrades to the current one
// in place: the new column appears, the rows stay.
func TestSQLiteUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	v1, err := schema.At(1)
	require.NoError(t, err)
	all := schema.SQLiteMigrations()
	require.Less(t, len(v1.SQLiteMigrations()), len(all))
	for i, m := range v1.SQLiteMigrations() {
		require.Equal(t, all[i], m, "a prefix")
	}
	db := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, db, schema.MigrationSet, v1.SQLiteMigrations()))
	_, err = db.Exec(`INSERT INTO households (id, hamlet_code, head_name) VALUES ('h1', '32002-01', 'x')`)
	require.NoError(t, err)
	_, err = db.Exec(`SELECT uses_camau_g FROM households`)
	require.Error(t, err, "schema 1 has no column")
	require.NoError(t, migrate.Apply(ctx, db, schema.MigrationSet, all))
	var n int
	var v any
	require.NoError(t, db.QueryRow(`SELECT count(*), max(uses_camau_g) FROM households`).Scan(&n, &v))
	require.Equal(t, 1, n)
	require.Nil(t, v)
}

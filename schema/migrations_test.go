package schema_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/schema"
)

func TestSQLiteMigrationsUpgrade(t *testing.T) {
	migs := schema.SQLiteMigrations()
	require.GreaterOrEqual(t, len(migs), 2)
	migratetest.UpgradeFromEveryVersion(t, schema.MigrationSet, migs)
}

var sqlType = map[schema.FieldType]string{
	schema.TypeString: "TEXT", schema.TypeDate: "TEXT", schema.TypeUUID: "TEXT",
	schema.TypeEnum: "TEXT", schema.TypePhone: "TEXT",
	schema.TypeInt: "INTEGER", schema.TypeTime: "INTEGER", schema.TypeBool: "INTEGER",
	schema.TypeFloat: "REAL",
}

// Every registry field has a column of the matching type and every column
// is a registry field, so a field added on one side only fails here.
func TestMigratedColumnsMatchRegistry(t *testing.T) {
	db := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(context.Background(), db, schema.MigrationSet, schema.SQLiteMigrations()))

	for _, tb := range schema.SyncedTables() {
		t.Run(tb.Name, func(t *testing.T) {
			type col struct {
				typ     string
				notNull bool
				pk      bool
			}
			rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, tb.Name)
			require.NoError(t, err)
			defer rows.Close()
			got := map[string]col{}
			for rows.Next() {
				var name string
				var c col
				require.NoError(t, rows.Scan(&name, &c.typ, &c.notNull, &c.pk))
				got[name] = c
			}
			require.NoError(t, rows.Err())
			require.NotEmpty(t, got, "table exists")

			want := map[string]col{"id": {"TEXT", false, true}, "_deleted": {"INTEGER", true, false}}
			for _, f := range tb.Fields {
				want[f.Name] = col{typ: sqlType[f.Type]}
			}
			del, _ := tb.Field("_deleted")
			require.Equal(t, "INTEGER", sqlType[del.Type])
			require.Equal(t, want, got)
		})
	}
}

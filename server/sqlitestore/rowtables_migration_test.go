package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// rowTableLayout describes a database's row tables: every column (name,
// declared type, not null, default, key), every index with its columns,
// and whether the table is stored in id order (WITHOUT ROWID).
func rowTableLayout(t *testing.T, db *sql.DB) (cols, indexes map[string][]string, clustered map[string]bool) {
	t.Helper()
	cols, indexes, clustered = map[string][]string{}, map[string][]string{}, map[string]bool{}
	for _, tb := range schema.SyncedTables() {
		rows, err := db.Query(`SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, tb.Name)
		require.NoError(t, err)
		for rows.Next() {
			var name, typ, def string
			var notNull, pk int
			require.NoError(t, rows.Scan(&name, &typ, &notNull, &def, &pk))
			if pk == 1 {
				notNull = 1 // a key of a WITHOUT ROWID table is NOT NULL; ids never are
			}
			cols[tb.Name] = append(cols[tb.Name], fmt.Sprintf("%s %s notnull=%d default=%q pk=%d", name, typ, notNull, def, pk))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		rows, err = db.Query(`SELECT l.name, l."unique", group_concat(i.name, ',') FROM pragma_index_list(?) l, pragma_index_info(l.name) i
			WHERE l.origin = 'c' GROUP BY l.name ORDER BY l.name`, tb.Name)
		require.NoError(t, err)
		for rows.Next() {
			var name, on string
			var unique int
			require.NoError(t, rows.Scan(&name, &unique, &on))
			indexes[tb.Name] = append(indexes[tb.Name], fmt.Sprintf("%s unique=%d (%s)", name, unique, on))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		var wr int
		require.NoError(t, db.QueryRow(`SELECT wr FROM pragma_table_list(?)`, tb.Name).Scan(&wr))
		clustered[tb.Name] = wr == 1
	}
	return cols, indexes, clustered
}

// The server's row tables are rebuilt in id order (0011) and keep what the
// data model declares: the same columns with the same types, defaults and
// key, and the same indexes, as a database the data model's migrations
// alone built (a schema migration that adds a column or an index must be
// mirrored in 0011 for new databases: this says so).
func TestRowTablesKeepTheDataModel(t *testing.T) {
	ctx := context.Background()
	model := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, model, schema.MigrationSet, schema.SQLiteMigrations()))
	wantCols, wantIdx, _ := rowTableLayout(t, model)

	path := filepath.Join(t.TempDir(), "hamlet.db")
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	cols, idx, clustered := rowTableLayout(t, db)
	require.Equal(t, wantCols, cols)
	require.Equal(t, wantIdx, idx)
	for _, tb := range schema.SyncedTables() {
		require.True(t, clustered[tb.Name], "row table %s is stored in id order (WITHOUT ROWID)", tb.Name)
	}
}

// A database whose row tables were rowid tables (server releases before
// 0011) is rebuilt when the store opens, and every row reads as before:
// the snapshot, rows' states and the row tables' values are unchanged.
func TestRowTablesMigrationKeepsEveryRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hamlet.db")
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	scopes := []string{"32001-01", "32001-02"}
	origin := uuid.New()
	hlc := syncproto.MakeHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	var saves []server.RowSave
	seq := uint64(0)
	add := func(table string, fields map[string]syncproto.Value) {
		id := uuid.New()
		vs := map[string]syncproto.Version{}
		for f, v := range fields {
			seq++
			hlc++
			vs[f] = syncproto.Version{Value: v, HLC: hlc, Dot: syncproto.Dot{Replica: origin, Seq: seq}}
		}
		saves = append(saves, server.RowSave{Ref: server.RowRef{Table: table, Row: id},
			State: &server.RowState{Scope: fields["hamlet_code"].AsString(), Versions: vs}, Fields: fields})
	}
	for i := 0; i < 300; i++ {
		sc := syncproto.String(scopes[i%2])
		add("households", map[string]syncproto.Value{"hamlet_code": sc, "head_name": syncproto.String(fmt.Sprintf("Hộ %d", i)),
			"phone": syncproto.String(fmt.Sprintf("09%08d", i)), "members_count": syncproto.Int(int64(i % 7)), "active": syncproto.Bool(i%3 == 0),
			"uses_camau_g": syncproto.Bool(true)})
		add("tutoring_records", map[string]syncproto.Value{"hamlet_code": sc, "skill": syncproto.String("vneid"), "taught_on": syncproto.String("2025-03-14")})
		add("visits", map[string]syncproto.Value{"hamlet_code": sc, "visited_on": syncproto.String("2025-03-15"), "notes": syncproto.Null()})
		add("field_reports", map[string]syncproto.Value{"hamlet_code": sc, "lat": syncproto.Float(9.17), "lng": syncproto.Float(105.15),
			"photo_digests": syncproto.String(`["ab"]`)})
	}
	require.NoError(t, st.Update(ctx, func(tx server.Tx) error { return tx.SaveRows(saves) }))
	snapshot := func(st *sqlitestore.Store) []server.SnapshotRow {
		var all []server.SnapshotRow
		var after server.RowRef
		for {
			page, err := st.SnapshotRows(ctx, server.SnapshotQuery{Scopes: scopes, After: after, Limit: 250})
			require.NoError(t, err)
			all = append(all, page...)
			if len(page) < 250 {
				return all
			}
			after = page[len(page)-1].Ref
		}
	}
	want := snapshot(st)
	require.Len(t, want, len(saves))
	require.NoError(t, st.Close())

	// Back to the layout of releases before 0011: the data model's rowid
	// tables, the rows in them in an order other than their ids'.
	model := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, model, schema.MigrationSet, schema.SQLiteMigrations()))
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	tx, err := db.Begin()
	require.NoError(t, err)
	wantValues := map[string]string{}
	for _, tb := range schema.SyncedTables() {
		wantValues[tb.Name] = tableDump(t, tx, tb.Name)
		var ddl string
		require.NoError(t, model.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, tb.Name).Scan(&ddl))
		for _, q := range []string{`ALTER TABLE ` + tb.Name + ` RENAME TO old_rows`, ddl,
			`INSERT INTO ` + tb.Name + ` SELECT * FROM old_rows ORDER BY hamlet_code, id DESC`, `DROP TABLE old_rows`} {
			_, err := tx.Exec(q)
			require.NoError(t, err, q)
		}
		rows, err := model.Query(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, tb.Name)
		require.NoError(t, err)
		for rows.Next() {
			var q string
			require.NoError(t, rows.Scan(&q))
			_, err := tx.Exec(q)
			require.NoError(t, err, q)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	// And before the migrations after 0011 (0012's units version, its
	// table and triggers; 0013's column of restamps beside the digests;
	// 0014's base of a refused change; 0015's collected ids; 0016's index
	// of refusals; 0017's digest floor), which the store applies again.
	for _, q := range []string{`ALTER TABLE sync_digests DROP COLUMN hlc`, `ALTER TABLE sync_refused DROP COLUMN base_origin`,
		`ALTER TABLE sync_refused DROP COLUMN base_seq`, `DROP TRIGGER admin_units_version_insert`, `DROP TRIGGER admin_units_version_update`,
		`DROP TRIGGER admin_units_version_delete`, `DROP TRIGGER admin_unit_predecessors_version_insert`,
		`DROP TRIGGER admin_unit_predecessors_version_update`, `DROP TRIGGER admin_unit_predecessors_version_delete`,
		`DROP TABLE admin_units_version`, `DROP TABLE sync_collected`, `DROP INDEX sync_refused_origin`,
		`DROP TABLE sync_digest_floor`} {
		_, err := tx.Exec(q)
		require.NoError(t, err, q)
	}
	_, err = tx.Exec(`DELETE FROM schema_migrations WHERE set_name = ? AND version >= 11`, sqlitestore.MigrationSet)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	_, _, clustered := rowTableLayout(t, db)
	require.False(t, clustered["households"], "the earlier layout")
	require.NoError(t, db.Close())

	st, err = sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	defer st.Close()
	require.Equal(t, want, snapshot(st))
	db, err = sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, _, clustered = rowTableLayout(t, db)
	tx, err = db.Begin()
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck
	for _, tb := range schema.SyncedTables() {
		require.True(t, clustered[tb.Name], "row table %s rebuilt in id order", tb.Name)
		require.Equal(t, wantValues[tb.Name], tableDump(t, tx, tb.Name), "row table %s", tb.Name)
	}
}

// tableDump is every row of table, every column with its storage class,
// in id order.
func tableDump(t *testing.T, tx *sql.Tx, table string) string {
	t.Helper()
	rows, err := tx.Query(`SELECT * FROM ` + table + ` ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	out := fmt.Sprint(cols, "\n")
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		require.NoError(t, rows.Scan(ptrs...))
		for _, v := range vals {
			out += fmt.Sprintf("%T:%v ", v, v)
		}
		out += "\n"
	}
	require.NoError(t, rows.Err())
	return out
}

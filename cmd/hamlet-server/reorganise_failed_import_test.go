package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// units reorganise whose import of the new tree fails changes nothing: the
// leaders bound to the reused code 32002 and to Phường 1 keep their area
// and sign in as before, instead of awaiting confirmation of an area that
// did not change. On each store the import is made to fail by a trigger on
// admin_units, as a full disk or a dropped connection would.
func TestReorganiseFailedImportMarksNoAccount(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres --db"} {
		t.Run(kind, func(t *testing.T) {
			if kind != "sqlite" {
				pgtest.URL(t)
			}
			pwFile := filepath.Join(t.TempDir(), "pw")
			require.NoError(t, os.WriteFile(pwFile, []byte(reorgPassword+"\n"), 0o600))
			st := newOperatorStore(t, kind)
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "2")
			st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2")
			st.ok(t, "user", "add", "--username", "lanh-dao-p4", "--name", "Lãnh đạo P4", "--role", "commune_leader", "--unit", "32002", "--password-file", pwFile)
			st.ok(t, "user", "add", "--username", "lanh-dao-p1", "--name", "Lãnh đạo P1", "--role", "commune_leader", "--unit", "32005", "--password-file", pwFile)

			drop := failUnitImports(t, st)
			code, _, errOut := st.cli(t, "units", "reorganise")
			require.NotEqual(t, 0, code, "the import fails")
			require.Contains(t, errOut, "stopped")
			list := st.ok(t, "user", "list")
			require.NotContains(t, list, "chờ xác nhận địa bàn", "no area changed, so no account awaits confirmation")

			drop()
			out := st.ok(t, "units", "reorganise")
			require.Contains(t, out, "lanh-dao-p4", "run again: the account bound to the reused code is listed")
			require.Contains(t, out, "lanh-dao-p1", "run again: the account bound to a retired unit is listed")
			require.Contains(t, st.ok(t, "user", "list"), "chờ xác nhận địa bàn", "and awaits confirmation")
		})
	}
}

// failUnitImports makes every insert into admin_units fail with "stopped"
// until the returned function is called.
func failUnitImports(t *testing.T, st *operatorStore) (drop func()) {
	t.Helper()
	if st.url == "" {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(st.dir, sqlitestore.DBFile))
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		_, err = db.Exec(`CREATE TRIGGER stop BEFORE INSERT ON admin_units BEGIN SELECT RAISE(ABORT, 'stopped'); END`)
		require.NoError(t, err)
		return func() {
			_, err := db.Exec(`DROP TRIGGER stop`)
			require.NoError(t, err)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, st.url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	_, err = conn.Exec(ctx, `CREATE FUNCTION stop_units() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'stopped'; END $$`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TRIGGER stop BEFORE INSERT ON admin_units FOR EACH ROW EXECUTE FUNCTION stop_units()`)
	require.NoError(t, err)
	return func() {
		_, err := conn.Exec(ctx, `DROP TRIGGER stop ON admin_units`)
		require.NoError(t, err)
	}
}

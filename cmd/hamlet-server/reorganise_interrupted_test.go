package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// units reorganise writes in several transactions. Stopped after any of
// them (here: the next write fails, as a SIGKILL would leave it) and run
// again as the operator would, it must still flag the leader bound to the
// reused code 32002 (Phường 4 before, all of An Xuyên after) and the one
// bound to retired Phường 1: otherwise those accounts silently widen.
func TestReorganiseInterruptedThenRerunStillFlagsAccounts(t *testing.T) {
	for name, trigger := range map[string]string{
		// stopped before the accounts are marked
		"before marking accounts": `CREATE TRIGGER stop AFTER UPDATE OF unit_changed_on ON users BEGIN SELECT RAISE(ABORT, 'stopped'); END`,
		// stopped before the new tree is imported
		"before importing units": `CREATE TRIGGER stop BEFORE INSERT ON admin_units BEGIN SELECT RAISE(ABORT, 'stopped'); END`,
	} {
		t.Run(name, func(t *testing.T) {
			pwFile := filepath.Join(t.TempDir(), "pw")
			require.NoError(t, os.WriteFile(pwFile, []byte(reorgPassword+"\n"), 0o600))
			st := newOperatorStore(t, "sqlite")
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "2")
			st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2")
			st.ok(t, "user", "add", "--username", "lanh-dao-p4", "--name", "Lãnh đạo P4", "--role", "commune_leader", "--unit", "32002", "--password-file", pwFile)
			st.ok(t, "user", "add", "--username", "lanh-dao-p1", "--name", "Lãnh đạo P1", "--role", "commune_leader", "--unit", "32005", "--password-file", pwFile)

			db, err := sql.Open("sqlite", "file:"+filepath.Join(st.dir, sqlitestore.DBFile))
			require.NoError(t, err)
			_, err = db.Exec(trigger)
			require.NoError(t, err)
			code, _, _ := st.cli(t, "units", "reorganise")
			require.NotEqual(t, 0, code, "the interrupted run fails")
			_, err = db.Exec(`DROP TRIGGER stop`)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			out := st.ok(t, "units", "reorganise")
			require.Contains(t, out, "lanh-dao-p4", "rerun: the account bound to the reused code is listed")
			require.Contains(t, out, "lanh-dao-p1", "rerun: the account bound to a retired unit is listed")
			list := st.ok(t, "user", "list")
			require.Contains(t, list, "chờ xác nhận địa bàn", "and awaits confirmation")
		})
	}
}

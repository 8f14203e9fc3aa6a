package simtest

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKillLeavesTheFilesAsTheyWere: a simulated kill leaves the replica
// file and its write-ahead log byte for byte as they were when it began
// (the log not checkpointed into the file nor removed), a transaction's
// frames that a parked task had not committed included, and the next
// open recovers the committed rows from the log.
func TestKillLeavesTheFilesAsTheyWere(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"idle", "a write transaction open"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replica.db")
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=cache_size(-64)")
			require.NoError(t, err)
			db.SetMaxOpenConns(1)
			_, err = db.ExecContext(ctx, `CREATE TABLE t(x); INSERT INTO t SELECT randomblob(3000) FROM generate_series(1, 20)`)
			if err != nil { // no generate_series: a recursive count
				_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20) INSERT INTO t SELECT randomblob(3000) FROM n`)
			}
			require.NoError(t, err)
			var tx *sql.Tx
			if name != "idle" {
				// More than the page cache holds: SQLite spills frames
				// of the uncommitted transaction into the log.
				tx, err = db.BeginTx(ctx, nil)
				require.NoError(t, err)
				_, err = tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200) INSERT INTO t SELECT randomblob(3000) FROM n`)
				require.NoError(t, err)
			}
			before, err := readCrashImage(path)
			require.NoError(t, err)
			require.NotEmpty(t, before[1], "the log holds frames")

			k, err := beginKill(path)
			require.NoError(t, err)
			require.NotNil(t, k.hold, "the kill holds the file open rather than copying it")
			require.NoError(t, db.Close())
			if tx != nil {
				_ = tx.Rollback() // the killed task lets go of its connection
			}
			require.NoError(t, k.end())

			after, err := readCrashImage(path)
			require.NoError(t, err)
			require.True(t, bytes.Equal(before[0], after[0]), "the file is as it was (%d bytes, now %d)", len(before[0]), len(after[0]))
			require.True(t, bytes.Equal(before[1], after[1]), "the log is as it was (%d bytes, now %d)", len(before[1]), len(after[1]))
			require.NotNil(t, after[2], "the -shm is still there")

			again, err := sql.Open("sqlite", "file:"+path)
			require.NoError(t, err)
			defer again.Close()
			var n int
			require.NoError(t, again.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n))
			require.Equal(t, 20, n, "the committed rows, recovered from the log; none of the open transaction's")
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, int64(len(before[0])), fi.Size())
		})
	}
}

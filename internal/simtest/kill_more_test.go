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

// openAgentLike opens path as the agent does, with a small page cache.
func openAgentLike(t *testing.T, path string, conns int) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-64)")
	require.NoError(t, err)
	db.SetMaxOpenConns(conns)
	return db
}

// fill adds n rows of 3,000 bytes to t.
func fill(t *testing.T, db *sql.DB, n int) {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS t(x)`)
	require.NoError(t, err)
	_, err = db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?) INSERT INTO t SELECT randomblob(3000) FROM n`, n)
	require.NoError(t, err)
}

// sameFiles: the file and its log are byte for byte as they were, and
// each of the three files is there only if it was.
func sameFiles(t *testing.T, before, after [][]byte) {
	t.Helper()
	require.Equal(t, before[0] == nil, after[0] == nil, "db presence")
	require.Equal(t, before[1] == nil, after[1] == nil, "-wal presence: before %v after %v", before[1] != nil, after[1] != nil)
	require.Equal(t, before[2] == nil, after[2] == nil, "-shm presence: before %v after %v", before[2] != nil, after[2] != nil)
	require.True(t, bytes.Equal(before[0], after[0]), "db %d -> %d", len(before[0]), len(after[0]))
	require.True(t, bytes.Equal(before[1], after[1]), "-wal %d -> %d", len(before[1]), len(after[1]))
}

// TestKillAfterAPartialCheckpoint: a checkpoint a reader stopped half-way,
// two connections, one of them in a read transaction at the kill: the
// files are left as they were, and the next open finds every row.
func TestKillAfterAPartialCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica.db")
	db := openAgentLike(t, path, 2)
	_, err := db.Exec(`PRAGMA wal_autocheckpoint = 0`)
	require.NoError(t, err)
	fill(t, db, 20)
	ctx := context.Background()
	rd, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	require.NoError(t, err)
	var n int
	require.NoError(t, rd.QueryRow(`SELECT count(*) FROM t`).Scan(&n))
	// more frames the reader does not see, then a passive checkpoint: partial
	w, err := db.Conn(ctx)
	require.NoError(t, err)
	_, err = w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`)
	require.NoError(t, err)
	_, err = w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20) INSERT INTO t SELECT randomblob(3000) FROM n`)
	require.NoError(t, err)
	var busy, logf, ckpt int
	require.NoError(t, w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logf, &ckpt))
	require.Less(t, ckpt, logf, "the checkpoint stopped at the reader")
	require.NoError(t, w.Close())

	before, err := readCrashImage(path)
	require.NoError(t, err)
	k, err := beginKill(path)
	require.NoError(t, err)
	require.NotNil(t, k.hold)
	require.NoError(t, db.Close()) // closes the idle one
	_ = rd.Rollback()              // the killed task lets go of the other
	require.NoError(t, k.end())
	after, err := readCrashImage(path)
	require.NoError(t, err)
	sameFiles(t, before, after)

	again, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer again.Close()
	require.NoError(t, again.QueryRow(`SELECT count(*) FROM t`).Scan(&n))
	require.Equal(t, 40, n)
}

// TestKillLeavesAnIndexTheNextOpenRebuilds: the -shm a kill leaves differs
// from a real kill's (kill's comment); the next connection to open the
// file alone rebuilds the index from the log whatever the -shm holds, even
// one from before the last commits.
func TestKillLeavesAnIndexTheNextOpenRebuilds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica.db")
	db := openAgentLike(t, path, 1)
	_, err := db.Exec(`PRAGMA wal_autocheckpoint = 0`)
	require.NoError(t, err)
	fill(t, db, 5)
	early, err := readCrashImage(path)
	require.NoError(t, err)
	fill(t, db, 7)
	k, err := beginKill(path)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, k.end())
	require.NoError(t, os.WriteFile(path+"-shm", early[2], 0o644))
	again, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer again.Close()
	var n int
	require.NoError(t, again.QueryRow(`SELECT count(*) FROM t`).Scan(&n))
	require.Equal(t, 12, n)
}

// TestKillWithNoLogLeavesNone: a kill of a process whose connections had
// all closed (the last one removed the log and its index) leaves no -wal
// and no -shm, as a real kill does: a read-only connection opened on the
// file creates both.
func TestKillWithNoLogLeavesNone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica.db")
	db := openAgentLike(t, path, 1)
	fill(t, db, 5)
	require.NoError(t, db.Close())
	before, err := readCrashImage(path)
	require.NoError(t, err)
	require.Nil(t, before[1], "no log: the last connection removed it")
	k, err := beginKill(path)
	require.NoError(t, err)
	require.NoError(t, k.end())
	after, err := readCrashImage(path)
	require.NoError(t, err)
	sameFiles(t, before, after)
}

package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
)

// A write-ahead log from another moment than the file beside it (a data
// folder restored from a backup taken while the agent had it open, or
// its files copied one by one). SQLite ties a -wal file's frames to its
// own header only (the salts), never to the database file: opening the
// two replays the frames over whatever the file holds. A -wal older than
// the file rolls the pages it holds back; a -wal begun on a newer file
// than this one (after a checkpoint this file lacks) brings the pages
// its transactions wrote, and the file's older pages stand for the rest:
// the laptop held records without the ones the volunteer saved in
// between, and its counters (sent_seq, the cursor) from the -wal, so no
// check at sync noticed: the records the server acknowledged never came
// back (helper 187, TestStaleWALRestoredMixed).
//
// Every write transaction counts itself (agent_meta txn_no), and notes,
// when it finds the log empty as it takes the write lock, that the file
// itself holds every transaction up to it (wal_base). The file and its
// log belong together only if the count the file alone holds is at
// least the log's base and at most the count read through the log.
// Checked before anything writes, by the first process to open the file
// (the next one reads the log the first one is writing).
const (
	metaTxnNo   = "txn_no"
	metaWALBase = "wal_base"
)

// errStaleWAL is the detail of a replica whose -wal file is not its own.
var errStaleWAL = errors.New("the -wal file beside the replica is from another moment than the replica")

// walHeader is the size of a -wal file's header: a file no longer holds
// no frame.
const walHeader = 32

// walEmpty: the -wal file beside path holds no frame.
func walEmpty(path string) bool {
	if path == "" {
		return false
	}
	fi, err := os.Stat(path + "-wal")
	return errors.Is(err, os.ErrNotExist) || err == nil && fi.Size() <= walHeader
}

// countCommit is a write transaction's count, before it commits.
func (t *txn) countCommit() error {
	n, err := t.metaInt(metaTxnNo)
	if err != nil {
		return err
	}
	if t.walEmpty {
		if err := t.setMeta(metaWALBase, n); err != nil {
			return err
		}
	}
	return t.setMeta(metaTxnNo, n+1)
}

// openHere counts the replicas of this process open by path: a second
// one reads the log the first one writes, and checks nothing.
var openHere = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func noteOpen(path string, d int) {
	path = absPath(path)
	openHere.Lock()
	defer openHere.Unlock()
	openHere.n[path] += d
	if openHere.n[path] <= 0 {
		delete(openHere.n, path)
	}
}

func openInProcess(path string) bool {
	path = absPath(path)
	openHere.Lock()
	defer openHere.Unlock()
	return openHere.n[path] > 0
}

// absPath is path as openHere keys it: one file under two spellings is
// one (closing a file this process has open drops its SQLite locks).
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// checkWAL refuses a replica whose -wal file is not its own, with a
// *FileError (ErrCorrupt) that says so. It reads only, and decides only
// when it can: no frame, another process or replica reading the file,
// a count not yet written, or a file it cannot read alone, pass.
//
// It reads through the -wal first, and holds that read while it reads
// the file alone. A process that opened the file after the look at its
// locks could otherwise, between the two reads, be the last to close it
// (SQLite copies the -wal into the file and removes it) and the next one
// write into a new -wal, noting as its base the file's count then, above
// the one read alone: a healthy replica told as damaged. The held read
// keeps the -wal from being removed or begun again, and no checkpoint
// copies into the file what this read does not see: the file alone then
// holds at least the base the read saw, and at most its count.
func checkWAL(ctx context.Context, path string) error {
	if walEmpty(path) || openInProcess(path) || openElsewhere(path) {
		return nil
	}
	db, err := sql.Open("sqlite", readOnlyDSN(path))
	if err != nil {
		return nil
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil
	}
	defer tx.Rollback()
	through, ok := readCounts(ctx, tx)
	if !ok {
		return nil
	}
	alone, ok := readCountsAlone(ctx, path)
	if !ok {
		return nil
	}
	if alone.txn > through.txn || through.base > alone.txn {
		return &FileError{Path: path, Kind: ErrCorrupt, Err: fmt.Errorf("%w: the file alone holds transaction %d, its -wal begins at %d and ends at %d", errStaleWAL, alone.txn, through.base, through.txn)}
	}
	return nil
}

type walCounts struct{ txn, base int64 }

// readCountsAlone reads txn_no and wal_base from the file at path alone
// (immutable: SQLite leaves the -wal out).
func readCountsAlone(ctx context.Context, path string) (walCounts, bool) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return walCounts{}, false
	}
	defer db.Close()
	return readCounts(ctx, db)
}

// readCounts reads txn_no and wal_base through q; ok is false when the
// file does not answer or holds no count yet.
func readCounts(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (walCounts, bool) {
	var c walCounts
	var txn, base sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT (SELECT value FROM agent_meta WHERE key = ?), (SELECT value FROM agent_meta WHERE key = ?)`, metaTxnNo, metaWALBase).Scan(&txn, &base)
	if err != nil || !txn.Valid {
		return c, false
	}
	c.txn, c.base = txn.Int64, base.Int64
	return c, true
}

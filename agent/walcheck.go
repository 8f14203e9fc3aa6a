package agent

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
// itself holds every transaction up to it (wal_base). SQLite also begins
// the log again from its start, with new salts in its header, once a
// checkpoint copied all of it into the file and no reader holds it: the
// file then held every transaction before. While another process has
// the file open (the app, sync --watch) that is the only new beginning
// the log sees, so each write transaction also notes the salts it found
// (wal_salt) and its count then (wal_salt_txn): the next one that finds
// other salts knows the log was begun anew since, when the file held at
// least that count, and raises wal_base to it. The file and its
// log belong together only if the count the file alone holds is at
// least the log's base and at most the count read through the log.
// Checked before anything writes, by the first process to open the file
// (the next one reads the log the first one is writing).
const (
	metaTxnNo      = "txn_no"
	metaWALBase    = "wal_base"
	metaWALSalt    = "wal_salt"
	metaWALSaltTxn = "wal_salt_txn"
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

// walHead reads the -wal file beside path: empty when it holds no frame,
// else the two salts of its header (0 when it cannot be read). Called
// with the write lock held, when no other connection can begin the log
// again, truncate it or remove it.
func walHead(path string) (empty bool, salt int64) {
	if path == "" {
		return false, 0
	}
	// One byte past the header: a log that has it holds a frame.
	head := make([]byte, walHeader+1)
	n, err := readHead(path+"-wal", head)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, 0
	case n <= walHeader && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		// A log cut short (0 after a TRUNCATE checkpoint), or its
		// header alone, holds no frame.
		return true, 0
	case n <= walHeader:
		return false, 0
	}
	return false, int64(binary.BigEndian.Uint64(head[16:24]))
}

// noteWriteStart notes, as a write transaction takes the write lock, the
// -wal file's head and what this connection has changed so far.
func (t *txn) noteWriteStart() error {
	if t.r.fileAtPath() == samePath {
		t.walEmpty, t.walSalt = walHead(t.r.path)
	} else {
		// The folder was moved (or the file replaced) while this process
		// has it open: the -wal beside the path, or none there, is not the
		// log SQLite writes through the handle it holds. Taken for empty,
		// this write would note a base the moved file alone does not hold
		// (TestWriteAfterFolderMovedKeepsTheBase). Unknown, as a header
		// that cannot be read: counted, the last salts and base kept.
		t.walEmpty, t.walSalt = false, 0
	}
	var err error
	t.changes0, t.schema0, err = t.changesNow()
	if err != nil {
		return fmt.Errorf("reading the replica's change count: %w", err)
	}
	return nil
}

// changesNow is SQLite's count of rows this connection inserted, updated
// or deleted (triggers' and foreign keys' included), and the schema's
// version, which DDL moves.
func (t *txn) changesNow() (changes, schema int64, err error) {
	err = t.tx.QueryRowContext(t.ctx, `SELECT total_changes(), schema_version FROM pragma_schema_version`).Scan(&changes, &schema)
	return changes, schema, err
}

// wroteNothing: this write transaction inserted, updated and deleted no
// row and changed no table or index: it dirtied no page, so its commit
// writes no frame into the -wal and cannot make the file and its -wal
// disagree, nor begin the -wal again. It is left uncounted (an idle sync
// then pays no fsync for it). Unknown is counted. Not so for statements
// that write pages without moving either: PRAGMA user_version or
// application_id, REINDEX, ANALYZE over existing statistics write
// frames uncounted (helper 196): none of them may run in a txn.
func (t *txn) wroteNothing() bool {
	changes, schema, err := t.changesNow()
	return err == nil && changes == t.changes0 && schema == t.schema0
}

// countCommit is a write transaction's count, before it commits; one
// that wrote nothing is not counted. Its notes are read in one statement
// and written in one (metas, setMetas): every counted commit pays for
// them, a few a sync. Each note is parsed where it is used, as when they
// were read one by one, so a note that does not read refuses the commit
// just when it did.
func (t *txn) countCommit() error {
	if t.wroteNothing() {
		return nil
	}
	notes, err := t.r.metas(t.ctx, t.tx, metaTxnNo, metaWALSalt, metaWALSaltTxn, metaWALBase)
	if err != nil {
		return err
	}
	n, err := t.r.noteInt(metaTxnNo, notes[0])
	if err != nil {
		return err
	}
	kv := make([]any, 0, 8)
	switch {
	case t.walEmpty:
		kv = append(kv, metaWALBase, n)
	case t.walSalt != 0:
		prev, err := t.r.noteInt(metaWALSalt, notes[1])
		if err != nil {
			return err
		}
		if prev != t.walSalt {
			// Begun anew since the last counted transaction took the
			// write lock: the file held every transaction before that
			// one, wal_salt_txn of them.
			at, err := t.r.noteInt(metaWALSaltTxn, notes[2])
			if err != nil {
				return err
			}
			base, err := t.r.noteInt(metaWALBase, notes[3])
			if err != nil {
				return err
			}
			if at > base {
				kv = append(kv, metaWALBase, at)
			}
		}
	}
	if !t.walEmpty && t.walSalt == 0 {
		// The header could not be read: noting salt 0 and this count
		// would have the next look (here or checkWAL) take any salts for
		// a log begun since this one, and raise the base above what the
		// file holds. The last salts known stay, with their count.
		return t.setMetas(append(kv, metaTxnNo, n+1)...)
	}
	return t.setMetas(append(kv, metaWALSalt, t.walSalt, metaWALSaltTxn, n, metaTxnNo, n+1)...)
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
	_, _, err := checkWALAndLook(ctx, path)
	return err
}

// checkWALAndLook is checkWAL, and the look at the replica id precheck
// makes next (lookReplicaID), through the read checkWAL holds when it
// made one and the file passed: looked says it did, and read id. When
// checkWAL reads nothing (no frame, the file open elsewhere, no count
// yet), or the id does not read, looked is false and precheck looks
// with a connection of its own, as before, for its errors.
func checkWALAndLook(ctx context.Context, path string) (id string, looked bool, err error) {
	if walEmpty(path) || openInProcess(path) || openElsewhere(path) {
		return "", false, nil
	}
	db, err := sql.Open("sqlite", readOnlyDSN(path))
	if err != nil {
		return "", false, nil
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", false, nil
	}
	defer tx.Rollback()
	through, ok := readCounts(ctx, tx)
	if !ok {
		return "", false, nil
	}
	// Begun anew after the last counted transaction took the write lock
	// (an uncounted write, or a checkpoint's, at the end of a sync): the
	// file then held every transaction before that one.
	if _, salt := walHead(path); salt != 0 && salt != through.salt && through.saltTxn > through.base {
		through.base = through.saltTxn
	}
	alone, ok := readCountsAlone(ctx, path)
	if !ok {
		return "", false, nil
	}
	if alone.txn > through.txn || through.base > alone.txn {
		return "", false, &FileError{Path: path, Kind: ErrCorrupt, Err: fmt.Errorf("%w: the file alone holds transaction %d, its -wal begins at %d and ends at %d", errStaleWAL, alone.txn, through.base, through.txn)}
	}
	if tx.QueryRowContext(ctx, lookIDQuery).Scan(&id) != nil {
		return "", false, nil
	}
	return id, true, nil
}

// walCounts are a replica's counts: txn_no, wal_base, wal_salt and
// wal_salt_txn.
type walCounts struct{ txn, base, salt, saltTxn int64 }

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

// readCounts reads txn_no, wal_base, wal_salt and wal_salt_txn through q;
// ok is false when the file does not answer or holds no count yet.
func readCounts(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (walCounts, bool) {
	var c walCounts
	var txn, base, salt, saltTxn sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT (SELECT value FROM agent_meta WHERE key = ?), (SELECT value FROM agent_meta WHERE key = ?), (SELECT value FROM agent_meta WHERE key = ?), (SELECT value FROM agent_meta WHERE key = ?)`,
		metaTxnNo, metaWALBase, metaWALSalt, metaWALSaltTxn).Scan(&txn, &base, &salt, &saltTxn)
	if err != nil || !txn.Valid {
		return c, false
	}
	c.txn, c.base, c.salt, c.saltTxn = txn.Int64, base.Int64, salt.Int64, saltTxn.Int64
	return c, true
}

// counted runs each statement given to ExecContext in a write
// transaction of its own that counts itself (countCommit), as r.db's own
// statements once did uncounted. An uncounted statement that wrote a
// page could begin the -wal again after a checkpoint: the next counted
// transaction then saw other salts and could only raise wal_base to the
// count before the last counted one, and replica.db without that
// transaction, paired with the -wal, passed the check
// (TestWALCheckUncountedWriteBeginsLogAgain). Reads go to r.db.
type counted struct{ r *Replica }

// writer is r.db for a statement that writes the replica outside a txn.
func (r *Replica) writer() counted { return counted{r} }

func (c counted) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = c.r.inCounted(ctx, func(t *txn) error {
		res, err = t.tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// inCounted runs the statements of f in one counted write transaction:
// the few writes that end a pull or a sync, each a transaction of its
// own through writer(), cost a sync a begin, a look at the -wal's header
// and a commit apiece.
func (r *Replica) inCounted(ctx context.Context, f func(t *txn) error) error {
	t, err := r.beginCounted(ctx)
	if err != nil {
		return err
	}
	if err := f(t); err != nil {
		t.rollback()
		return err
	}
	return t.commit()
}

func (c counted) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.r.db.QueryContext(ctx, query, args...)
}

func (c counted) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.r.db.QueryRowContext(ctx, query, args...)
}

package agent

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/internal/stmtcache"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ApplicationID marks a SQLite file as a Hamlet agent replica ("HMLT").
const ApplicationID = 0x484d4c54

// MigrationSet is the agent's own set in schema_migrations.
const MigrationSet = "agent"

var agentMigrations = []migration.Migration{
	{Version: 1, Name: "replica", SQL: `
CREATE TABLE agent_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE row_state (
	id TEXT PRIMARY KEY,
	tbl TEXT NOT NULL,
	scope TEXT NOT NULL,
	folded TEXT NOT NULL DEFAULT '',
	state BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE outbox (
	seq INTEGER PRIMARY KEY,
	tbl TEXT NOT NULL,
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	kind INTEGER NOT NULL,
	value,
	hlc INTEGER NOT NULL,
	base_replica BLOB,
	base_seq INTEGER NOT NULL DEFAULT 0,
	scope TEXT NOT NULL,
	state INTEGER NOT NULL DEFAULT 0,
	code TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX outbox_state ON outbox(state, seq);
CREATE INDEX outbox_row ON outbox(row_id, field);
CREATE TABLE conflicts (
	id INTEGER PRIMARY KEY,
	tbl TEXT NOT NULL,
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	scope TEXT NOT NULL,
	loser_kind INTEGER NOT NULL, loser_value, loser_hlc INTEGER NOT NULL,
	loser_replica BLOB NOT NULL, loser_seq INTEGER NOT NULL,
	winner_kind INTEGER NOT NULL, winner_value, winner_hlc INTEGER NOT NULL,
	winner_replica BLOB NOT NULL, winner_seq INTEGER NOT NULL,
	detected_at INTEGER NOT NULL,
	restored_at INTEGER,
	UNIQUE (row_id, field, loser_replica, loser_seq)
);
`},
	{Version: 2, Name: "tombs", SQL: tombsMigration},
	// status counts the live households at every call: on 20,000 of them
	// a scan of the table was a third of the command's time; this index
	// answers it from a few pages.
	{Version: 3, Name: "households_live", SQL: `CREATE INDEX IF NOT EXISTS households_live ON households (_deleted);`},
	{Version: 4, Name: "photos", SQL: photosMigration},                 // photos.go
	{Version: 5, Name: "outbox_clock", SQL: clockMigration},            // clock.go
	{Version: 6, Name: "outbox_rows", SQL: outboxRowsMigration},        // outbox_rows.go
	{Version: 7, Name: "own_away", SQL: ownAwayMigration},              // away.go
	{Version: 8, Name: "state_values", SQL: restateMigration},          // state_values.go
	{Version: 9, Name: "own_away_hist", SQL: ownAwayHistMigration},     // away.go
	{Version: 10, Name: "record_filed", SQL: recordFiledMigration},     // lists.go
	{Version: 11, Name: "photos_away", SQL: photosAwayMigration},       // photos.go
	{Version: 12, Name: "photos_orphans", SQL: photosOrphansMigration}, // photos.go
	{Version: 13, Name: "clone_drop", SQL: cloneDropMigration},         // clone.go
	{Version: 14, Name: "superseded", SQL: supersededMigration},        // superseded.go
	{Version: 15, Name: "away_replica", SQL: awayReplicaMigration},     // away.go
	{Version: 16, Name: "away_taken", SQL: awayTakenMigration},         // away.go
	{Version: 17, Name: "away_told", SQL: awayToldMigration},           // away.go
	{Version: 18, Name: "away_seen", SQL: awaySeenMigration},           // hidden.go
	{Version: 19, Name: "photos_held", SQL: photosHeldMigration},       // photos.go
}

// Migrations returns the agent's migration set (applied after schema's).
func Migrations() []migration.Migration { return agentMigrations }

// Outbox states.
const (
	// outboxPending: not yet held by the server.
	outboxPending = 0
	// outboxUnacked: the server holds it (Welcome.PushedSeq) but its Ack
	// was lost, so its result is unknown: it is pushed again and the server
	// answers duplicate, or refused again with its reason (§7.4). It never
	// leaves the outbox without a result.
	outboxUnacked = 1
	// outboxRejected: refused by the server; in the rejected list.
	outboxRejected = 2
)

// Options tunes Open. The zero value is what the CLI uses.
type Options struct {
	// Now is the wall clock (time.Now when nil); tests move it.
	Now func() time.Time
	// MaxSkew is how far ahead of this clock a stamp it follows may be
	// (syncproto.DefaultMaxSkew when zero).
	MaxSkew time.Duration
	// Schema is the data model the replica runs (schema.Current() when
	// nil). Tests pass schema.At(1) to play an agent built at the previous
	// schema version against a newer server.
	Schema *schema.Registry
	// HTTPClient makes the replica's HTTP requests to the server: enroll,
	// fork, roster (http.DefaultClient when nil; internal/simtest's answers
	// from its in-memory server).
	HTTPClient *http.Client
	// NewID makes new row and replica ids (uuid.New when nil; a
	// simulation's come from its seed).
	NewID func() uuid.UUID
}

// Replica is a volunteer's local replica. It is safe for concurrent use; all
// writes are serialised by SQLite (BEGIN IMMEDIATE), also across processes,
// so a CLI command can write while `sync --watch` runs.
type Replica struct {
	db    *sql.DB
	path  string
	id    syncproto.ReplicaID
	clock atomic.Pointer[syncproto.Clock]
	// measuredWall is this laptop's wall clock (Unix ms) when the last
	// sync measured it: offset_wall_ms (clock.go, ClockSetBack).
	measuredWall atomic.Int64
	clockBack    atomic.Bool  // clock_set_back as kept (ClockSetBack)
	backSeenFor  atomic.Int64 // the measuredWall this process saw the clock set back against
	skew         time.Duration
	now          func() time.Time
	cols         map[string][]string // row table -> columns (without id)
	// colKinds is, per row table, the kind of value each column holds as
	// it was given (its declared type: TEXT strings, INTEGER ints, REAL
	// floats); a column of another type holds none exactly (state_values.go).
	colKinds map[string]map[string]syncproto.Kind
	sch      *schema.Registry // the data model this replica runs
	// former holds the replica ids this file wrote under before a fork
	// (fork.go): what they wrote is still this laptop's.
	former atomic.Pointer[map[syncproto.ReplicaID]bool]
	// file is the replica file as opened: a repair (repair.go) puts a new
	// file in its place, and this one must not be written on.
	file os.FileInfo
	// commits counts the write transactions committed through this
	// Replica (Mark): SQLite's data_version only sees other connections'.
	commits atomic.Uint64
	httpc   *http.Client     // Options.HTTPClient
	newID   func() uuid.UUID // Options.NewID

	// enrolled is the enrollment last decoded, by its stored text
	// (enrollment): the same text is not decoded again.
	enrolled atomic.Pointer[decodedEnrollment]

	mu     sync.Mutex // guards closed
	closed bool
}

// decodedEnrollment is an enrollment's stored text and what it decodes to.
type decodedEnrollment struct {
	text string
	e    Enrollment
}

var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens the replica in the SQLite file at path, creating it (and its
// replica id) if the file does not exist, and migrating it forward. A file
// that is not a Hamlet replica, or is damaged, or was written by a newer
// build gives a *FileError and is left byte-for-byte untouched.
func Open(ctx context.Context, path string) (*Replica, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Replica, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Schema == nil {
		opts.Schema = schema.Current()
	}
	fresh, lookLater, err := precheck(ctx, path)
	if err != nil {
		return nil, classifyOpen(path, err)
	}
	if fresh {
		// A repair moves the damaged file aside before its fresh copy
		// takes the name: a command in between must not create an
		// empty replica there (repair.go).
		if m, err := readMark(path); err != nil || m != nil {
			return nil, &FileError{Path: path, Kind: ErrCorrupt, Err: errors.New("the replica is being repaired, or its repair was interrupted")}
		}
		// Built whole beside it, then named (create.go).
		if err := createReplica(ctx, path, opts); err != nil {
			return nil, classifyOpen(path, err)
		}
		if fresh, lookLater, err = precheck(ctx, path); err != nil {
			return nil, classifyOpen(path, err)
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(0)&_pragma=cache_size(-32000)&_pragma=temp_store(MEMORY)"
	// The statements it runs are kept prepared on the connection
	// (internal/stmtcache): parsing them again at every call was a third
	// of the agent's CPU in the simulation (issue 17).
	db, err := sql.Open(stmtcache.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	// One connection: a write transaction and the reads inside it share it,
	// and SQLite serialises writers anyway.
	db.SetMaxOpenConns(1)
	if lookLater {
		if err := lookThrough(ctx, db, path); err != nil {
			db.Close()
			return nil, classifyOpen(path, err)
		}
	}
	r := &Replica{db: db, path: path, now: opts.Now, sch: opts.Schema}
	if err := r.init(ctx, fresh, opts); err != nil {
		db.Close()
		return nil, classifyOpen(path, err)
	}
	r.file, _ = os.Stat(path)
	if r.file != nil {
		// On Windows a FileInfo from os.Stat reads the file's identity
		// only at its first os.SameFile, from whatever file the path names
		// then: after a repair replaced it, the new one's, and Replaced
		// would never tell. Read it now, from the file this process opened.
		os.SameFile(r.file, r.file)
	}
	noteOpen(path, 1)
	return r, nil
}

// classifyOpen is classify for Open's errors, and marks a damaged file so
// that later commands refuse to write and point to repair (damage.go).
func classifyOpen(path string, err error) error {
	err = classify(path, err)
	var fe *FileError
	if errors.As(err, &fe) && errors.Is(fe.Kind, ErrCorrupt) {
		markDamaged(path, fe.Err)
	}
	if isDiskFull(err) {
		return &DiskFullError{Path: path, Err: err}
	}
	return err
}

// precheck reads the file without writing: a missing or empty file is fresh;
// anything else must be a SQLite file marked with our application id.
// lookLater is true when the quick look at the replica id is left to the
// connection Open makes next (lookThrough): a file in WAL mode with no
// -wal or -journal content beside it, which opening that connection and
// closing it again leave byte for byte as they were.
func precheck(ctx context.Context, path string) (fresh, lookLater bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, false, nil
	}
	if err != nil {
		return false, false, err
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	f.Close()
	if n == 0 {
		if _, ok := walApplicationID(ctx, path); !ok {
			return true, false, nil
		}
		// All of it still in the -wal file (create.go): read it through SQLite.
		copy(head, sqliteHeader)
		n, err = len(head), nil
	}
	if err != nil || !bytes.Equal(head[:16], sqliteHeader) {
		if n >= 16 && !bytes.Equal(head[:16], sqliteHeader) {
			return false, false, &FileError{Path: path, Kind: ErrForeign, Err: errors.New("not a SQLite file")}
		}
		return false, false, &FileError{Path: path, Kind: ErrCorrupt, Err: errors.New("truncated header")}
	}
	// Application id: big-endian at offset 68 of the header.
	app := uint32(head[68])<<24 | uint32(head[69])<<16 | uint32(head[70])<<8 | uint32(head[71])
	if app == 0 {
		// Set by a transaction still in the -wal file (create.go)?
		if id, ok := walApplicationID(ctx, path); ok {
			app = id
		}
	}
	if app != ApplicationID {
		if app == 0 {
			// A SQLite file nobody marked: ours only if it is empty.
			if empty, err := emptyDB(ctx, path); err == nil && empty {
				return true, false, nil
			}
		}
		return false, false, &FileError{Path: path, Kind: ErrForeign, Err: fmt.Errorf("application id %#x", app)}
	}
	if quiet(path, head) {
		return false, true, nil
	}
	// A -wal from another moment than the file is refused before SQLite
	// replays it (walcheck.go).
	v, looked, err := checkWALAndLook(ctx, path)
	if err != nil {
		return false, false, err
	}
	// A quick read-only look: a damaged file fails here before we write.
	// checkWAL's held read made it when it read through the -wal (a
	// connection of its own parsed the whole schema again at every start
	// after a crash); else, or when that look failed, a connection of its
	// own does, and says why.
	if !looked {
		v, err = lookReplicaID(ctx, path)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_READONLY_ROLLBACK {
		// A process killed while it committed in rollback-journal mode (a
		// new replica switching to WAL, create.go) left a hot journal that
		// only a writer may roll back: this file is ours, so do, and look
		// again.
		if err = rollBack(ctx, path); err == nil {
			v, err = lookReplicaID(ctx, path)
		}
	}
	if err != nil {
		if halfCreated(ctx, path) {
			return false, false, nil // opening it finishes its creation (create.go)
		}
		return false, false, classify(path, err)
	}
	if _, err := uuid.Parse(v); err != nil {
		return false, false, &FileError{Path: path, Kind: ErrCorrupt, Err: err}
	}
	return false, false, nil
}

// quiet is whether the file is in WAL mode (its header's read and write
// versions are 2) with nothing beside it: no -wal content and no rollback
// journal. A connection opened on it and closed again writes nothing to
// the file: journal_mode(WAL) is already so, and closing has no frames to
// checkpoint.
func quiet(path string, head []byte) bool {
	if head[18] != 2 || head[19] != 2 {
		return false
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 || err != nil && !errors.Is(err, os.ErrNotExist) {
		return false
	}
	if _, err := os.Stat(path + "-journal"); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	return true
}

// lookThrough is precheck's look at the replica id through the connection
// of db, the replica's own, before anything is written on it: a damaged
// file fails here. It spares a second connection, which parsed the whole
// schema again at every start (issue 17).
func lookThrough(ctx context.Context, db *sql.DB, path string) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM agent_meta WHERE key = 'replica_id'`).Scan(&v)
	if err != nil {
		if halfCreated(ctx, path) {
			return nil // opening it finishes its creation (create.go)
		}
		return classify(path, err)
	}
	if _, err := uuid.Parse(v); err != nil {
		return &FileError{Path: path, Kind: ErrCorrupt, Err: err}
	}
	return nil
}

// lookReplicaID reads the replica id without writing.
func lookReplicaID(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", readOnlyDSN(path))
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, lookIDQuery).Scan(&v)
	return v, err
}

// lookIDQuery reads the replica id, for precheck's look.
const lookIDQuery = `SELECT value FROM agent_meta WHERE key = 'replica_id'`

// rollBack rolls back the hot journal beside path: SQLite does it as a
// writer's connection first reads the file.
func rollBack(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		return fmt.Errorf("roll back the journal a killed command left: %w", err)
	}
	return nil
}

// readOnlyDSN opens path for a look without writing. It waits, as every
// connection of ours does, while another process holds the file: the last
// connection of a command checkpoints and removes the write-ahead log under
// an exclusive lock, and a command starting meanwhile must not fail at once
// with "database is locked".
func readOnlyDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)"
}

func emptyDB(ctx context.Context, path string) (bool, error) {
	db, err := sql.Open("sqlite", readOnlyDSN(path))
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n)
	return n == 0, err
}

// classify maps SQLite's corruption codes to a *FileError.
func classify(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, migrate.ErrNewerThanCode) {
		return &FileError{Path: path, Kind: ErrNewer, Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return &FileError{Path: path, Kind: ErrCorrupt, Err: err}
		}
	}
	if strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "not a database") {
		return &FileError{Path: path, Kind: ErrCorrupt, Err: err}
	}
	return err
}

func (r *Replica) init(ctx context.Context, fresh bool, opts Options) error {
	r.httpc, r.newID = opts.HTTPClient, opts.NewID
	if r.httpc == nil {
		r.httpc = http.DefaultClient
	}
	if r.newID == nil {
		r.newID = uuid.New
	}
	if fresh {
		if _, err := r.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, ApplicationID)); err != nil {
			return err
		}
	}
	if err := migrate.Apply(ctx, r.db, schema.MigrationSet, r.sch.SQLiteMigrations()); err != nil {
		return err
	}
	if err := migrate.Apply(ctx, r.db, MigrationSet, agentMigrations); err != nil {
		return err
	}
	if err := r.loadColumns(ctx); err != nil {
		return err
	}
	if err := r.backfill(ctx, fresh); err != nil {
		return fmt.Errorf("fill the columns of schema %d: %w", r.sch.Version(), err)
	}
	if err := r.restate(ctx); err != nil {
		return err
	}
	if err := r.adoptOrphanPhotos(ctx); err != nil {
		return err
	}
	idText, err := r.meta(ctx, r.db, "replica_id")
	if err != nil {
		return err
	}
	if idText == "" {
		id := r.newID()
		if _, err := r.writer().ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES ('replica_id', ?) ON CONFLICT (key) DO NOTHING`, id.String()); err != nil {
			return err
		}
		if idText, err = r.meta(ctx, r.db, "replica_id"); err != nil {
			return err
		}
	}
	if r.id, err = uuid.Parse(idText); err != nil {
		return &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	if err := r.loadFormer(ctx, r.db); err != nil {
		return err
	}
	r.skew = opts.MaxSkew
	off, _ := r.metaInt(ctx, r.db, "offset_ms")
	last, _ := r.metaInt(ctx, r.db, "clock_last")
	r.setClock(time.Duration(off)*time.Millisecond, syncproto.HLC(last))
	wall, _ := r.metaInt(ctx, r.db, "offset_wall_ms")
	r.measuredWall.Store(wall)
	back, _ := r.metaInt(ctx, r.db, metaClockSetBack)
	r.clockBack.Store(back != 0)
	r.noteClockSetBack(ctx)
	return nil
}

// Close closes the database. It is safe to call twice.
func (r *Replica) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	defer noteOpen(r.path, -1)
	return r.db.Close()
}

// ID is the replica id, made once when the file was created.
func (r *Replica) ID() syncproto.ReplicaID { return r.id }

// Path is the SQLite file.
func (r *Replica) Path() string { return r.path }

// DB exposes the database for tests and invariant checks.
func (r *Replica) DB() *sql.DB { return r.db }

// Clock is the replica's HLC.
func (r *Replica) Clock() *syncproto.Clock { return r.clk() }

func (r *Replica) clk() *syncproto.Clock { return r.clock.Load() }

// setClock installs a clock corrected by offset that resumes after last,
// unless last lies beyond the skew bound of the corrected clock: then it
// came from this laptop's wrong date before the offset was known, and
// following it would keep stamping writes a year ahead (Clock.Restore). A
// write over such a value still beats it: Clock.NowAfter stamps above its
// base.
func (r *Replica) setClock(offset time.Duration, last syncproto.HLC) {
	c := syncproto.NewClock(r.now, r.skew)
	c.SetOffset(offset)
	c.Restore(last)
	r.clock.Store(c)
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// metaJSON reads key's value as JSON into a T: none, or one this build
// cannot read, is T's zero value (a note unreadable tells nothing, as
// none).
func metaJSON[T any](ctx context.Context, r *Replica, q querier, key string) (T, error) {
	var v T
	raw, err := r.meta(ctx, q, key)
	if err != nil || raw == "" {
		return v, err
	}
	if json.Unmarshal([]byte(raw), &v) != nil {
		var zero T
		return zero, nil
	}
	return v, nil
}

// setMetaJSON stores v as key's JSON value.
func (t *txn) setMetaJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.setMeta(key, string(b))
}

func (r *Replica) meta(ctx context.Context, q querier, key string) (string, error) {
	var v any
	err := q.QueryRowContext(ctx, `SELECT value FROM agent_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return metaText(v), nil // notes_check.go: NotesCheck reads as this does
}

// metas reads the texts of several notes in one statement, as meta reads
// each ("" for none), in the order of keys: the notes a step reads
// together are read at one moment, and a read outside a transaction
// takes SQLite's read lock once rather than once a note (each a few
// fcntl calls, a fifth of a no-op sync's CPU). Parse the numbers with
// noteInt and noteUint where the reader would have, so that a note that
// does not read refuses the file just when it did.
func (r *Replica) metas(ctx context.Context, q querier, keys ...string) ([]string, error) {
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM agent_meta WHERE key IN (?`+strings.Repeat(`, ?`, len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]string, len(keys))
	for rows.Next() {
		var k string
		var v any
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		if i := slices.Index(keys, k); i >= 0 {
			out[i] = metaText(v) // as meta reads it
		}
	}
	return out, rows.Err()
}

func (r *Replica) metaInt(ctx context.Context, q querier, key string) (int64, error) {
	s, err := r.meta(ctx, q, key)
	if err != nil {
		return 0, err
	}
	return r.noteInt(key, s)
}

// noteInt reads s, the text of the note key already read, as metaInt
// does.
func (r *Replica) noteInt(key, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, r.unreadNote(key) // numberNotes
	}
	return n, nil
}

// metaUint is metaInt for the notes that are never negative.
func (r *Replica) metaUint(ctx context.Context, q querier, key string) (uint64, error) {
	s, err := r.meta(ctx, q, key)
	if err != nil {
		return 0, err
	}
	return r.noteUint(key, s)
}

// noteUint reads s, the text of the note key already read, as metaUint
// does: a caller that looked at the text first does not read it again.
func (r *Replica) noteUint(key, s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, r.unreadNote(key) // numberNotes
	}
	return n, nil
}

// setMeta stores a value. An unchanged value is not written again: a
// statement that changes no page commits nothing, so a sync that only
// confirms what the replica knew (its offset, scope, roster) costs no
// fsync.
func setMeta(ctx context.Context, q querier, key string, v any) error {
	_, err := q.ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value`, key, v)
	return err
}

// setMetas stores several values in one statement, as setMeta stores
// each (an unchanged one is not written again): kv is key, value, key,
// value…, the keys distinct. A step that notes several values at once
// (takeClock, a write transaction's count) runs one statement instead of
// one a note; through writer() they are one transaction, not one each.
func setMetas(ctx context.Context, q querier, kv ...any) error {
	if len(kv) == 0 || len(kv)%2 != 0 {
		return fmt.Errorf("setMetas: %d arguments, not key-value pairs", len(kv))
	}
	_, err := q.ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES (?, ?)`+strings.Repeat(`, (?, ?)`, len(kv)/2-1)+
		` ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value`, kv...)
	return err
}

// Enrollment is what the server told this device when it enrolled.
type Enrollment struct {
	Server   string   `json:"server"`
	DeviceID string   `json:"device_id"`
	MemberID string   `json:"member_id"`
	TeamID   string   `json:"team_id"`
	TeamName string   `json:"team_name"`
	Scope    []Hamlet `json:"scope"`
	ServerID string   `json:"server_id"`
	Schema   int      `json:"schema"`
	// Label is the laptop's name given at enrollment ("" before it was
	// kept).
	Label string `json:"label,omitempty"`
	// Former are the hamlets the team covered before and no longer does,
	// by the last name this laptop knew (updateScope): a sync tells the
	// volunteer a hamlet lost by its name, and a record kept there is
	// shown with it, though the scope no longer holds it.
	Former []Hamlet `json:"former,omitempty"`
}

// maxFormerHamlets bounds Enrollment.Former: a commune has a few dozen
// hamlets, and a team moved across a province for years keeps the latest.
const maxFormerHamlets = 500

// HamletLabel says a hamlet as a volunteer knows it, "Ấp Tân Lợi
// (32002-09)", or by its code where this laptop knows no name: what a
// sync's summary and the app's notices name.
func (e *Enrollment) HamletLabel(code string) string {
	return hamletLabel(code, e.HamletName(code))
}

// hamletLabel is HamletLabel of a hamlet whose name is known: "Khóm 2
// (32002-02)", or the code alone when name is none or the code.
func hamletLabel(code, name string) string {
	if name != "" && name != code {
		return name + " (" + code + ")"
	}
	return code
}

// HamletName is the name this laptop knows for a hamlet of the team's, or
// one it covered before; "" when none (a hamlet gained and not yet named
// by the roster).
func (e *Enrollment) HamletName(code string) string {
	if e == nil {
		return ""
	}
	for _, h := range e.Scope {
		if h.Code == code && h.Name != "" {
			return h.Name
		}
	}
	for _, h := range e.Former {
		if h.Code == code {
			return h.Name
		}
	}
	return ""
}

// Hamlet is one hamlet of the device's scope, as the enrollment names it.
type Hamlet = syncproto.ScopeUnit

// Enrollment returns the stored enrollment, nil if the device never enrolled.
func (r *Replica) Enrollment(ctx context.Context) (*Enrollment, error) {
	return r.enrollment(ctx, r.db)
}

func (r *Replica) enrollment(ctx context.Context, q querier) (*Enrollment, error) {
	s, err := r.meta(ctx, q, "enrollment")
	if err != nil {
		return nil, err
	}
	return r.enrollmentOf(s)
}

// enrollmentOf is enrollment of its note's text, already read.
func (r *Replica) enrollmentOf(s string) (*Enrollment, error) {
	if s == "" {
		return nil, nil
	}
	// The text is read every time, so a change by another process (the
	// CLI) is seen; decoding it again only when it changed spares the
	// JSON decoder on every sync, write and page, which read it several
	// times each (a fiftieth of the simulation's CPU, issue 17). Each
	// caller gets its own copy, scope included.
	if d := r.enrolled.Load(); d != nil && d.text == s {
		e := d.e
		e.Scope, e.Former = slices.Clone(d.e.Scope), slices.Clone(d.e.Former)
		return &e, nil
	}
	var e Enrollment
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	d := &decodedEnrollment{text: s, e: e}
	d.e.Scope, d.e.Former = slices.Clone(e.Scope), slices.Clone(e.Former)
	r.enrolled.Store(d)
	return &e, nil
}

// SetEnrollment stores the enrollment (scope, member, server).
func (r *Replica) SetEnrollment(ctx context.Context, e *Enrollment) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return setMeta(ctx, r.writer(), "enrollment", string(b))
}

// updateScope replaces the scope codes with the server's list at Welcome,
// keeping the names we know: a hamlet gained back takes the name it had,
// a hamlet lost keeps its name in Former (the sync tells it by name after
// this, rescope).
func (r *Replica) updateScope(ctx context.Context, codes []string) error {
	edit := func(e *Enrollment) bool {
		names := map[string]string{}
		for _, h := range e.Former {
			names[h.Code] = h.Name
		}
		for _, h := range e.Scope {
			if h.Name != "" {
				names[h.Code] = h.Name
			}
		}
		e.Former = formerAfter(e.Scope, e.Former, codes)
		e.Scope = e.Scope[:0]
		for _, c := range codes {
			e.Scope = append(e.Scope, Hamlet{Code: c, Name: names[c]})
		}
		return true
	}
	// Every sync's Welcome comes here, and its scope is nearly always
	// the one stored: the stored text is read first, outside a write
	// transaction, and when the edit leaves it as it is, the write
	// transaction (its write lock, look at the -wal and counts, a no-op
	// sync's dearest step after the clock) would write nothing, as
	// setMeta writes no unchanged value: it is not begun. The damage and
	// replaced-file checks of begin stay.
	if err := r.writable(); err != nil {
		return err
	}
	s, err := r.meta(ctx, r.db, "enrollment")
	if err != nil {
		return err
	}
	if s == "" {
		return nil // never enrolled: editEnrollment edits nothing
	}
	if e, err := r.enrollmentOf(s); err == nil && edit(e) {
		if b, err := json.Marshal(e); err == nil && string(b) == s {
			return nil
		}
	}
	return r.editEnrollment(ctx, edit)
}

// formerAfter is Enrollment.Former once the scope is codes, from the
// scope and former hamlets before: a hamlet of the scope no longer in
// codes joins them by its name (one with none is said by its code
// anyway), a hamlet in codes leaves them; the latest maxFormerHamlets.
func formerAfter(scope, former []Hamlet, codes []string) []Hamlet {
	var lost []Hamlet
	for _, h := range scope {
		if !slices.Contains(codes, h.Code) && h.Name != "" {
			lost = append(lost, h)
		}
	}
	out := slices.DeleteFunc(slices.Clone(former), func(h Hamlet) bool {
		return slices.Contains(codes, h.Code) || slices.ContainsFunc(lost, func(l Hamlet) bool { return l.Code == h.Code })
	})
	out = append(out, lost...)
	if n := len(out) - maxFormerHamlets; n > 0 {
		out = out[n:]
	}
	return out
}

// editEnrollment changes the stored enrollment in one write transaction,
// read and written there: two changes at once (a session's scope, the
// roster's names from the app's background fetch) each keep the other's.
// edit returns whether it changed anything.
func (r *Replica) editEnrollment(ctx context.Context, edit func(*Enrollment) bool) error {
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	e, err := r.enrollmentIn(ctx, t)
	if err != nil || e == nil || !edit(e) {
		return err
	}
	if err := t.setMetaJSON("enrollment", e); err != nil {
		return err
	}
	return t.commit()
}

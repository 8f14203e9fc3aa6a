package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/replicas"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// MigrationSet is the name the server's own migrations are recorded under.
const MigrationSet = "server"

//go:embed migrations/*.sql
var sqliteMigrationsFS embed.FS

// ServerMigrations returns the server's own SQLite migrations.
func ServerMigrations() ([]migrate.Migration, error) {
	return migrate.FromEmbed(sqliteMigrationsFS, "migrations")
}

// DBFile is the database file name inside the data directory.
const DBFile = "hamlet.db"

// Store is the SQLite Store: one file in WAL mode, one writer
// connection (SQLite has one writer anyway) guarded by mu, and a pool of
// read-only connections for pulls and listings.
type Store struct {
	path string
	wdb  *sql.DB         // one connection
	rdb  *sql.DB         // read pool
	src  *sqlread.Source // the read model's, over rdb

	mu    sync.Mutex // the writer
	wconn *sql.Conn
	stmts map[string]*sql.Stmt
	qtext map[qkey]string // generated multi-row statement texts

	revoked readStmt // DeviceRevoked's (devices.go)

	// watch, if set, hears of every commit that grew the log (under mu).
	watch func(server.CommitEvent)

	reps *replicas.Cache // every committed replica (loaded at Open)
	// repSeq is replicas.max_seq of every replica this store created or
	// loaded: the writer reads and updates it instead of the table, and
	// writes the table once per transaction (flushReplicas). Under seqMu.
	seqMu  sync.Mutex
	repSeq map[int64]uint64
}

var _ server.Store = (*Store)(nil)

// Options tune the SQLite store.
type Options struct {
	// Synchronous is the SQLite synchronous pragma: "FULL" (default:
	// durable across power loss) or "NORMAL" (durable across a process
	// crash, faster).
	Synchronous string
	ReadConns   int
}

// WriterPragmas is the DSN query (modernc.org/sqlite _pragma parameters)
// of the store's writer connection for a synchronous setting; the push
// benchmark gives its bare-insert yardstick the same.
func WriterPragmas(synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", "cache_size(-32000)")
	// Multi-row upserts need a statement journal; in memory it costs no
	// file writes (it holds at most one statement's pages).
	q.Add("_pragma", "temp_store(MEMORY)")
	return q.Encode()
}

// Open opens (creating and migrating) the store at path.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	sync := strings.ToUpper(opt.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" && sync != "EXTRA" {
		return nil, fmt.Errorf("open store: synchronous must be FULL or NORMAL, not %q", opt.Synchronous)
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 8
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite", "file:"+abs+"?"+WriterPragmas(sync)+"&_pragma=foreign_keys(0)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := migrate.Apply(ctx, wdb, schema.MigrationSet, schema.SQLiteMigrations()); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: data model: %w", path, err)
	}
	migs, err := ServerMigrations()
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate.Apply(ctx, wdb, MigrationSet, migs); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: server tables: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	rq.Add("_pragma", "cache_size(-8000)")
	rdb, err := sql.Open("sqlite", "file:"+abs+"?"+rq.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(opt.ReadConns)
	rdb.SetMaxIdleConns(opt.ReadConns)
	s := &Store{path: abs, wdb: wdb, rdb: rdb, stmts: map[string]*sql.Stmt{},
		reps: replicas.NewCache(), repSeq: map[int64]uint64{}, src: &sqlread.Source{DB: rdb}}
	s.wconn, err = wdb.Conn(ctx)
	if err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.loadReplicas(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.ServerID(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) closeDBs() {
	s.rdb.Close()
	s.wdb.Close()
}

func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	var errs []error
	if s.wconn != nil {
		// Fold the WAL back so the file is whole on its own.
		_, _ = s.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, s.wconn.Close())
		s.wconn = nil
	}
	errs = append(errs, s.rdb.Close(), s.wdb.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

func (s *Store) loadReplicas(ctx context.Context) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT idx, id, max_seq FROM replicas`)
	if err != nil {
		return fmt.Errorf("load replicas: %w", err)
	}
	defer rows.Close()
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	for rows.Next() {
		var idx, seq int64
		var id []byte
		if err := rows.Scan(&idx, &id, &seq); err != nil {
			return fmt.Errorf("load replicas: %w", err)
		}
		r, err := uuid.FromBytes(id)
		if err != nil {
			return fmt.Errorf("load replicas: %w", err)
		}
		s.reps.Add(r, idx)
		s.repSeq[idx] = uint64(seq)
	}
	return rows.Err()
}

func (s *Store) replicaOf(ctx context.Context, idx int64) (syncproto.ReplicaID, error) {
	return s.reps.Resolve(idx, func(idx int64) (syncproto.ReplicaID, error) {
		var id []byte
		if err := s.rdb.QueryRowContext(ctx, `SELECT id FROM replicas WHERE idx = ?`, idx).Scan(&id); err != nil {
			return syncproto.ReplicaID{}, err
		}
		return uuid.FromBytes(id)
	})
}

// stmt returns a statement prepared on the writer connection. Callers hold mu.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	st, err := s.wconn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmts[q] = st
	return st, nil
}

// write runs fn in one IMMEDIATE transaction on the writer connection.
func (s *Store) write(ctx context.Context, fn func(w *writeTx) error) (err error) {
	defer func() { err = trouble(err) }()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wconn == nil {
		return errors.New("store is closed")
	}
	// The transaction must finish even if the caller's context ends: a
	// half-done batch is rolled back below, never left open.
	bg := context.WithoutCancel(ctx)
	if _, err := s.wconn.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &writeTx{s: s, ctx: bg, reps: replicas.NewTx(s.reps)}
	defer func() {
		if r := recover(); r != nil {
			_, _ = s.wconn.ExecContext(bg, "ROLLBACK")
			err = fmt.Errorf("write transaction panicked: %v", r)
		}
	}()
	err = fn(w)
	if err == nil {
		err = w.flushLog()
	}
	if err == nil {
		err = w.flushReplicas()
	}
	if err != nil {
		if _, rerr := s.wconn.ExecContext(bg, "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if _, err := s.wconn.ExecContext(bg, "COMMIT"); err != nil {
		_, _ = s.wconn.ExecContext(bg, "ROLLBACK")
		return fmt.Errorf("commit: %w", err)
	}
	if s.watch != nil && len(w.scopes) > 0 {
		s.watch(server.CommitEvent{Scopes: w.scopes, Head: w.nextSeq - 1})
	}
	w.reps.Commit()
	if len(w.seqs) > 0 {
		s.seqMu.Lock()
		for idx, seq := range w.seqs {
			s.repSeq[idx] = seq
		}
		s.seqMu.Unlock()
	}
	return nil
}

// Shared: this process alone writes the database (one writer connection;
// the operator's commands run while the server is stopped, or only read).
func (s *Store) Shared() bool { return false }

// FeedCommits reports every commit that grew the log, in commit order,
// while the writer lock is held (see hub.logged); first, under the same
// lock, the head as a Restart.
func (s *Store) FeedCommits(fn func(server.CommitEvent)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wconn == nil {
		return errors.New("store is closed")
	}
	var head int64
	if err := s.wconn.QueryRowContext(context.Background(), `SELECT `+sqliteHead).Scan(&head); err != nil {
		return fmt.Errorf("read log head: %w", err)
	}
	s.watch = fn
	fn(server.CommitEvent{Restart: true, Head: uint64(head)})
	return nil
}

func (s *Store) Update(ctx context.Context, fn func(server.Tx) error) error {
	return s.write(ctx, func(w *writeTx) error { return fn(w) })
}

// writeTx is one write transaction.
type writeTx struct {
	s       *Store
	ctx     context.Context
	reps    replicas.Tx       // replicas added by this transaction
	nextRep int64             // the next free replica index (0: not read yet)
	seqs    map[int64]uint64  // max_seq set by this transaction
	scopes  map[string]uint64 // highest seq appended per scope
	buf     []byte
	nextSeq uint64
	pending []any  // buffered log rows, logCols values each
	ids     []byte // arena for the row ids in pending
}

var _ server.Tx = (*writeTx)(nil)

func (w *writeTx) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writeTx) queryRow(q string, args ...any) (*sql.Row, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(w.ctx, args...), nil
}

func (w *writeTx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

// idx returns the replica's small integer, creating it (create=true). A
// new replica gets the next free index at once; its row is written with the
// others when the transaction commits (flushReplicas).
func (w *writeTx) idx(r syncproto.ReplicaID, create bool) (int64, error) {
	return w.reps.Index(r, create, w)
}

// Find: the store read every committed replica when it opened and is the
// only writer, so one missing from the cache does not exist.
func (w *writeTx) Find(syncproto.ReplicaID) (int64, bool, error) { return 0, false, nil }

// New takes the next free index; flushReplicas writes the row.
func (w *writeTx) New(syncproto.ReplicaID) (int64, error) {
	if w.nextRep == 0 {
		row, err := w.queryRow(`SELECT COALESCE(MAX(idx), 0) + 1 FROM replicas`)
		if err != nil {
			return 0, err
		}
		if err := row.Scan(&w.nextRep); err != nil {
			return 0, err
		}
	}
	w.nextRep++
	return w.nextRep - 1, nil
}

func (w *writeTx) replica(i int64) (syncproto.ReplicaID, error) { return w.reps.ID(i, nil) }

func (w *writeTx) OriginSeq(r syncproto.ReplicaID) (uint64, error) {
	i, err := w.idx(r, false)
	if err != nil || i < 0 {
		return 0, err
	}
	if seq, ok := w.seqs[i]; ok {
		return seq, nil
	}
	if w.reps.Added(r) {
		return 0, nil
	}
	w.s.seqMu.Lock()
	seq, ok := w.s.repSeq[i]
	w.s.seqMu.Unlock()
	if ok {
		return seq, nil
	}
	row, err := w.queryRow(`SELECT max_seq FROM replicas WHERE idx = ?`, i)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("origin seq: %w", err)
	}
	return uint64(n), nil
}

func (w *writeTx) SetOriginSeq(r syncproto.ReplicaID, seq uint64) error {
	i, err := w.idx(r, true)
	if err != nil {
		return err
	}
	if w.seqs == nil {
		w.seqs = map[int64]uint64{}
	}
	w.seqs[i] = seq
	return nil
}

const repCols = 3

// flushReplicas writes the replicas this transaction added and the origin
// sequences it set, in multi-row upserts.
func (w *writeTx) flushReplicas() error {
	added := w.reps.New()
	if len(added) == 0 && len(w.seqs) == 0 {
		return nil
	}
	idxs := make([]int64, 0, len(added)+len(w.seqs))
	for _, i := range added {
		if _, ok := w.seqs[i]; !ok {
			idxs = append(idxs, i)
		}
	}
	for i := range w.seqs {
		idxs = append(idxs, i)
	}
	slices.Sort(idxs)
	args := make([]any, 0, repCols*chunkSizes[1])
	err := chunks(len(idxs), chunkSizes[1], func(a, b int) error {
		q := w.s.query(qkey{"reps", "", b - a}, func() string {
			return `INSERT INTO replicas (idx, id, max_seq) VALUES ` + placeholders(b-a, repCols) +
				` ON CONFLICT (idx) DO UPDATE SET max_seq = excluded.max_seq`
		})
		args = args[:0]
		for _, i := range idxs[a:b] {
			r, err := w.replica(i)
			if err != nil {
				return err
			}
			args = append(args, i, r[:], int64(w.seqs[i]))
		}
		_, err := w.exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save replicas: %w", err)
	}
	return nil
}

func (w *writeTx) Row(table string, id syncproto.RowID) (server.RowState, bool, error) {
	row, err := w.queryRow(`SELECT scope, parent, deleted, tomb_seq, versions FROM sync_rows WHERE tbl = ? AND row = ?`, table, id[:])
	if err != nil {
		return server.RowState{}, false, err
	}
	var st server.RowState
	var parent, blob []byte
	var tomb int64
	if err := row.Scan(&st.Scope, &parent, &st.Deleted, &tomb, &blob); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return server.RowState{}, false, nil
		}
		return server.RowState{}, false, fmt.Errorf("load row: %w", err)
	}
	st.TombSeq = uint64(tomb)
	if len(parent) == 16 {
		copy(st.Parent[:], parent)
	}
	if st.Versions, err = versions.Decode(blob, w.replica); err != nil {
		return st, false, fmt.Errorf("load row %s: %w", id, err)
	}
	return st, true, nil
}

func (w *writeTx) PutRow(table string, id syncproto.RowID, st server.RowState) error {
	var parent any
	if st.Parent != (syncproto.RowID{}) {
		parent = st.Parent[:]
	}
	blob, err := versions.Encode(w.buf[:0], st.Versions, func(r syncproto.ReplicaID) (int64, error) { return w.idx(r, true) })
	if err != nil {
		return fmt.Errorf("save row: %w", err)
	}
	w.buf = blob
	_, err = w.exec(`INSERT INTO sync_rows (tbl, row, scope, parent, deleted, tomb_seq, versions) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tbl, row) DO UPDATE SET scope = excluded.scope, parent = excluded.parent,
		deleted = excluded.deleted, tomb_seq = excluded.tomb_seq, versions = excluded.versions`,
		table, id[:], st.Scope, parent, st.Deleted, int64(st.TombSeq), blob)
	if err != nil {
		return fmt.Errorf("save row: %w", err)
	}
	return nil
}

// Append assigns the next server_seq and buffers the entry; entries are
// written in multi-row INSERTs (flushLog), far cheaper than one statement
// per change. One writer holds the database, so MAX(seq)+1 is ours.
func (w *writeTx) Append(e *server.LogEntry) error {
	if w.nextSeq == 0 {
		row, err := w.queryRow(`SELECT ` + sqliteHead)
		if err != nil {
			return err
		}
		var head int64
		if err := row.Scan(&head); err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		w.nextSeq = uint64(head) + 1
	}
	c := &e.Change
	o, err := w.idx(c.Dot.Replica, true)
	if err != nil {
		return err
	}
	b, err := w.idx(c.Base.Replica, true)
	if err != nil {
		return err
	}
	var ns any
	if e.Kind == server.EntryEviction {
		ns = e.NewScope
	}
	e.Seq = w.nextSeq
	w.nextSeq++
	if w.scopes == nil {
		w.scopes = map[string]uint64{}
	}
	w.scopes[c.Scope] = e.Seq
	// The row id is copied into an arena: slicing c.Row would move every
	// entry to the heap. An arena that grows leaves earlier slices on the old
	// array, which stays valid.
	if cap(w.ids)-len(w.ids) < 16 {
		w.ids = make([]byte, 0, 16*1024)
	}
	w.ids = append(w.ids, c.Row[:]...)
	row := w.ids[len(w.ids)-16 : len(w.ids) : len(w.ids)]
	if w.pending == nil {
		w.pending = make([]any, 0, logCols*logRowsPerInsert*4)
	}
	w.pending = append(w.pending, int64(e.Seq), int64(e.Kind), c.Scope, c.Table, row, c.Field, int64(c.Value.Kind()), versions.SQLValue(c.Value), int64(c.HLC),
		o, int64(c.Dot.Seq), b, int64(c.Base.Seq), ns)
	if len(w.pending) >= cap(w.pending)-logCols {
		return w.flushLog()
	}
	return nil
}

const (
	logCols          = 14
	logRowsPerInsert = 64
)

func (w *writeTx) flushLog() error {
	n := len(w.pending) / logCols
	err := chunks(n, logRowsPerInsert, func(i, j int) error {
		q := w.s.query(qkey{"log", "", j - i}, func() string {
			return `INSERT INTO sync_log (seq, kind, scope, tbl, row, field, vkind, val, hlc, origin, oseq, base_origin, base_seq, new_scope) VALUES ` +
				placeholders(j-i, logCols)
		})
		_, err := w.exec(q, w.pending[i*logCols:j*logCols]...)
		return err
	})
	if err != nil {
		return fmt.Errorf("append to log: %w", err)
	}
	clear(w.pending) // drop references to the values
	w.pending = w.pending[:0]
	return nil
}

func (w *writeTx) Children(parent syncproto.RowID) ([]server.RowRef, error) {
	rows, err := w.query(`SELECT tbl, row FROM sync_rows WHERE parent = ?`, parent[:])
	if err != nil {
		return nil, fmt.Errorf("load children: %w", err)
	}
	defer rows.Close()
	var out []server.RowRef
	for rows.Next() {
		var r server.RowRef
		var id []byte
		if err := rows.Scan(&r.Table, &id); err != nil {
			return nil, fmt.Errorf("load children: %w", err)
		}
		copy(r.Row[:], id)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (w *writeTx) AddConflict(c syncproto.Conflict, at time.Time) error {
	_, err := w.exec(`INSERT INTO sync_conflicts (at_ms, scope, tbl, row, field, loser_kind, loser_val, loser_hlc, loser_origin, loser_seq,
		winner_hlc, winner_origin, winner_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), c.Scope, c.Key.Table, c.Key.Row[:], c.Key.Field, int64(c.Loser.Value.Kind()), versions.SQLValue(c.Loser.Value),
		int64(c.Loser.HLC), c.Loser.Dot.Replica[:], int64(c.Loser.Dot.Seq), int64(c.Winner.HLC), c.Winner.Dot.Replica[:], int64(c.Winner.Dot.Seq))
	if err != nil {
		return fmt.Errorf("record conflict: %w", err)
	}
	return nil
}

func (w *writeTx) AddRefused(r server.Refused) error {
	c := &r.Change
	_, err := w.exec(`INSERT INTO sync_refused (at_ms, device_id, scope, tbl, row, field, kind, val, hlc, origin, oseq, code, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.At.UnixMilli(), r.DeviceID, c.Scope, c.Table, c.Row[:], c.Field, int64(c.Value.Kind()), versions.SQLValue(c.Value),
		int64(c.HLC), c.Dot.Replica[:], int64(c.Dot.Seq), string(r.Code), r.Reason)
	if err != nil {
		return fmt.Errorf("record refused change: %w", err)
	}
	return nil
}

func (w *writeTx) Materialize(table string, id syncproto.RowID, fields map[string]syncproto.Value) error {
	t, ok := schema.LookupTable(table)
	if !ok {
		return fmt.Errorf("materialize: unknown table %q", table)
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		if _, ok := t.Field(f); !ok {
			return fmt.Errorf("materialize: table %s has no field %q", table, f)
		}
		names = append(names, f)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.Name + " (id")
	for _, n := range names {
		b.WriteString(", " + n)
	}
	b.WriteString(") VALUES (?" + strings.Repeat(", ?", len(names)) + ")")
	if len(names) > 0 {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " = excluded." + n)
		}
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, id.String())
	for _, n := range names {
		v := fields[n]
		if n == schema.DeletedField && v.IsNull() {
			args = append(args, false) // the column is NOT NULL
			continue
		}
		args = append(args, versions.SQLValue(v))
	}
	if _, err := w.exec(b.String(), args...); err != nil {
		return fmt.Errorf("materialize %s row: %w", table, err)
	}
	return nil
}

// deleteRowData drops a row's materialized data (GC).
func (w *writeTx) deleteRowData(table string, id syncproto.RowID) error {
	t, ok := schema.LookupTable(table)
	if !ok {
		return nil
	}
	if _, err := w.exec(`DELETE FROM `+t.Name+` WHERE id = ?`, id.String()); err != nil {
		return fmt.Errorf("drop %s row: %w", table, err)
	}
	return nil
}

// chunkSizes are the row counts of the multi-row statements the writer
// uses: a run of n rows is cut greedily into these, so each statement text
// is prepared once and reused for the life of the store.
var chunkSizes = [...]int{256, 64, 16, 4, 1}

// chunks calls fn with consecutive [i, j) of n items, each one of
// chunkSizes no larger than max.
func chunks(n, max int, fn func(i, j int) error) error {
	for i := 0; i < n; {
		k := 1
		for _, c := range chunkSizes {
			if c <= max && c <= n-i {
				k = c
				break
			}
		}
		if err := fn(i, i+k); err != nil {
			return err
		}
		i += k
	}
	return nil
}

// qkey names a generated statement text.
type qkey struct {
	kind string // "load", "rows", "mat"
	key  string // table, or table and field list
	n    int
}

// query returns the cached text of a generated statement. Callers hold mu.
func (s *Store) query(k qkey, build func() string) string {
	if q, ok := s.qtext[k]; ok {
		return q
	}
	if s.qtext == nil {
		s.qtext = map[qkey]string{}
	}
	q := build()
	s.qtext[k] = q
	return q
}

func placeholders(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

func (w *writeTx) LoadRows(refs []server.RowRef) (map[server.RowRef]server.RowState, error) {
	out := make(map[server.RowRef]server.RowState, len(refs))
	byTable := map[string][]syncproto.RowID{}
	var tables []string
	for _, r := range refs {
		if _, ok := byTable[r.Table]; !ok {
			tables = append(tables, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], r.Row)
	}
	args := make([]any, 0, 1+chunkSizes[0])
	for _, t := range tables {
		ids := byTable[t]
		err := chunks(len(ids), chunkSizes[0], func(i, j int) error {
			q := w.s.query(qkey{"load", "", j - i}, func() string {
				return `SELECT row, scope, parent, deleted, tomb_seq, versions FROM sync_rows WHERE tbl = ? AND row IN (?` +
					strings.Repeat(", ?", j-i-1) + `)`
			})
			args = append(args[:0], t)
			for _, id := range ids[i:j] {
				args = append(args, id[:])
			}
			rows, err := w.query(q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var st server.RowState
				var id, parent, blob []byte
				var tomb int64
				if err := rows.Scan(&id, &st.Scope, &parent, &st.Deleted, &tomb, &blob); err != nil {
					return err
				}
				st.TombSeq = uint64(tomb)
				if len(parent) == 16 {
					copy(st.Parent[:], parent)
				}
				var ref server.RowRef
				ref.Table = t
				copy(ref.Row[:], id)
				if st.Versions, err = versions.Decode(blob, w.replica); err != nil {
					return fmt.Errorf("row %s: %w", ref.Row, err)
				}
				out[ref] = st
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("load rows: %w", err)
		}
	}
	return out, nil
}

const rowCols = 7

func (w *writeTx) SaveRows(rs []server.RowSave) error {
	// Row states: multi-row upserts.
	states := make([]*server.RowSave, 0, len(rs))
	for i := range rs {
		if rs[i].State != nil {
			states = append(states, &rs[i])
		}
	}
	args := make([]any, 0, rowCols*chunkSizes[1])
	err := chunks(len(states), chunkSizes[1], func(i, j int) error {
		q := w.s.query(qkey{"rows", "", j - i}, func() string {
			return `INSERT INTO sync_rows (tbl, row, scope, parent, deleted, tomb_seq, versions) VALUES ` + placeholders(j-i, rowCols) +
				` ON CONFLICT (tbl, row) DO UPDATE SET scope = excluded.scope, parent = excluded.parent,
				deleted = excluded.deleted, tomb_seq = excluded.tomb_seq, versions = excluded.versions`
		})
		args = args[:0]
		for _, r := range states[i:j] {
			st := r.State
			var parent any
			if st.Parent != (syncproto.RowID{}) {
				parent = st.Parent[:]
			}
			blob, err := versions.Encode(nil, st.Versions, func(r syncproto.ReplicaID) (int64, error) { return w.idx(r, true) })
			if err != nil {
				return err
			}
			args = append(args, r.Ref.Table, r.Ref.Row[:], st.Scope, parent, st.Deleted, int64(st.TombSeq), blob)
		}
		_, err := w.exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save rows: %w", err)
	}

	// Materialised rows: grouped by table and field set, multi-row upserts.
	type group struct {
		t     *schema.Table
		names []string
		rows  []*server.RowSave
	}
	groups := map[string]*group{}
	var order []string
	var names []string
	for i := range rs {
		r := &rs[i]
		if len(r.Fields) == 0 {
			continue
		}
		t, ok := schema.LookupTable(r.Ref.Table)
		if !ok {
			return fmt.Errorf("materialize: unknown table %q", r.Ref.Table)
		}
		names = names[:0]
		for f := range r.Fields {
			if _, ok := t.Field(f); !ok {
				return fmt.Errorf("materialize: table %s has no field %q", t.Name, f)
			}
			names = append(names, f)
		}
		sort.Strings(names)
		key := t.Name + "(" + strings.Join(names, ",") + ")"
		g := groups[key]
		if g == nil {
			g = &group{t: t, names: slices.Clone(names)}
			groups[key] = g
			order = append(order, key)
		}
		g.rows = append(g.rows, r)
	}
	for _, key := range order {
		g := groups[key]
		cols := len(g.names) + 1
		maxRows := max(1, min(chunkSizes[1], 900/cols))
		err := chunks(len(g.rows), maxRows, func(i, j int) error {
			q := w.s.query(qkey{"mat", key, j - i}, func() string { return materializeSQL(g.t.Name, g.names, j-i) })
			args = args[:0]
			for _, r := range g.rows[i:j] {
				args = append(args, r.Ref.Row.String())
				for _, n := range g.names {
					v := r.Fields[n]
					if n == schema.DeletedField && v.IsNull() {
						args = append(args, false) // the column is NOT NULL
						continue
					}
					args = append(args, versions.SQLValue(v))
				}
			}
			_, err := w.exec(q, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("materialize %s rows: %w", g.t.Name, err)
		}
	}
	return nil
}

func materializeSQL(table string, names []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (id")
	for _, n := range names {
		b.WriteString(", " + n)
	}
	b.WriteString(") VALUES " + placeholders(rows, len(names)+1))
	if len(names) > 0 {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " = excluded." + n)
		}
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	return b.String()
}

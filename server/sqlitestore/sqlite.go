package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/internal/stmtcache"
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
func ServerMigrations() ([]migration.Migration, error) {
	return migration.FromEmbed(sqliteMigrationsFS, "migrations")
}

// Migrate applies the data model's migrations and then the server's own
// to db, as Open does to a store's file (db with foreign keys off, one
// connection). servertest builds its template store by it.
func Migrate(ctx context.Context, db *sql.DB) error {
	if err := migrate.Apply(ctx, db, schema.MigrationSet, schema.SQLiteMigrations()); err != nil {
		return fmt.Errorf("data model: %w", err)
	}
	migs, err := ServerMigrations()
	if err != nil {
		return err
	}
	if err := migrate.Apply(ctx, db, MigrationSet, migs); err != nil {
		return fmt.Errorf("server tables: %w", err)
	}
	return nil
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

	mu sync.Mutex // the writer
	// blobMu orders the blob operations that pair a file with its row
	// (blobs.go); taken before mu.
	blobMu sync.Mutex
	wconn  *sql.Conn
	stmts  map[string]*sql.Stmt
	qtext  map[qkey]string // generated multi-row statement texts

	revoked readStmt // DeviceRevoked's (devices.go)
	// Every pull's statements, prepared once (read.go, gc.go): parsing
	// them again for each pull was a sixth of the server's CPU with 2,000
	// agents syncing (issue 20).
	headStmt, horizonStmt readStmt
	logStmts              logStmtCache

	// watch, if set, hears of every commit that grew the log (under mu).
	watch   func(server.CommitEvent)
	foreign foreignWatch // other processes' commits (foreign.go)

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
	// Both the writer and the read pool keep the statements they run
	// prepared, per connection (internal/stmtcache).
	wdb, err := sql.Open(stmtcache.DriverName, "file:"+abs+"?"+WriterPragmas(sync)+"&_pragma=foreign_keys(0)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := Migrate(ctx, wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	rq.Add("_pragma", "cache_size(-8000)")
	rdb, err := sql.Open(stmtcache.DriverName, "file:"+abs+"?"+rq.Encode())
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
	s.logStmts.close()
	var errs []error
	s.foreign.mu.Lock()
	if s.foreign.probe != nil {
		errs = append(errs, s.foreign.probe.Close(), s.foreign.db.Close())
		s.foreign.probe, s.foreign.db = nil, nil
	}
	s.foreign.mu.Unlock()
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
	if s.watch != nil {
		// Another process's commits first, in the order they came.
		if err := s.checkForeignLocked(bg); err != nil {
			return err
		}
	}
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
	if s.watch != nil && (len(w.scopes) > 0 || w.cut) {
		ev := server.CommitEvent{Scopes: w.scopes, Entries: w.logged, Cut: w.cut}
		if len(w.scopes) > 0 {
			ev.Head = w.nextSeq - 1
		}
		s.watch(ev)
	}
	if s.watch != nil {
		// This commit moved the probe's version; a commit of another
		// process right after it (it no longer waits for the lock) is
		// reported as such.
		if err := s.checkForeignLocked(bg); err != nil {
			s.foreign.known.Store(0) // unknown: pulls read the store until the next look
		}
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

// Shared: the server writes the database through this process alone (one
// writer connection). The operator's commands may commit to the file while
// it runs; the store finds those commits (foreign.go) rather than being fed
// them.
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
	// The probe has a database handle of its own: held for good, a
	// connection of the read pool would leave a pool of one with none
	// (review 41, helper 90).
	pq := url.Values{}
	pq.Add("_pragma", "busy_timeout(10000)")
	pq.Add("_pragma", "query_only(1)")
	pdb, err := sql.Open(stmtcache.DriverName, "file:"+s.path+"?"+pq.Encode())
	if err != nil {
		return fmt.Errorf("open the commit probe: %w", err)
	}
	pdb.SetMaxOpenConns(1)
	probe, err := pdb.Conn(context.Background())
	if err != nil {
		pdb.Close()
		return fmt.Errorf("open the commit probe: %w", err)
	}
	s.foreign.mu.Lock()
	s.foreign.db, s.foreign.probe = pdb, probe
	s.foreign.mu.Unlock()
	bg := context.Background()
	if s.foreign.wver, err = dataVersion(bg, s.wconn); err != nil {
		return err
	}
	v, err := s.probeVersion(bg)
	if err != nil {
		return err
	}
	s.foreign.known.Store(v)
	// The head is read after both versions: a commit landing meanwhile is
	// in it, and seen again at the next look.
	var head int64
	if err := s.wconn.QueryRowContext(bg, `SELECT `+sqliteHead).Scan(&head); err != nil {
		return fmt.Errorf("read log head: %w", err)
	}
	s.watch = fn
	fn(server.CommitEvent{Restart: true, Head: uint64(head)})
	return nil
}

func (s *Store) Update(ctx context.Context, fn func(server.Tx) error) error {
	return s.write(ctx, func(w *writeTx) error { return fn(w) })
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

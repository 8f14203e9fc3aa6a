package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/replicas"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Migration set names. The PostgreSQL store records its own two sets beside
// each other: the data model (the schema package's SQLite set translated)
// and the server's tables. They are not "schema" and "server" because their
// versions are their own: a PostgreSQL migration can be added without a
// SQLite one and the other way round (TestColumnsMatchRegistry holds the
// data model's columns to the registry on both).
const (
	SchemaSet = "schema_pg"
	ServerSet = "server_pg"
)

//go:embed migrations/schema/*.sql migrations/server/*.sql
var migrationsFS embed.FS

// SchemaMigrations is the data model's PostgreSQL migrations.
func SchemaMigrations() ([]migration.Migration, error) {
	return migration.FromEmbed(migrationsFS, "migrations/schema")
}

// ServerMigrations is the server tables' PostgreSQL migrations.
func ServerMigrations() ([]migration.Migration, error) {
	return migration.FromEmbed(migrationsFS, "migrations/server")
}

// Options tune the store.
type Options struct {
	// MaxConns bounds the connection pool (default: pgxpool's, 4 or the
	// number of CPUs, whichever is more). A pool_max_conns parameter in the
	// URL sets it too.
	MaxConns int32
	// AcquireTimeout bounds the wait for a free pool connection of a write
	// or a sync read; past it the request fails with server.ErrBusy
	// (default 5s).
	AcquireTimeout time.Duration
	// Logger hears of the commit feed's reconnections (nil: slog.Default()).
	Logger *slog.Logger
	// LocalFeed reports commits from the goroutine that commits them, as
	// the SQLite store does, instead of LISTENing for every process's on a
	// connection and goroutine of its own; Shared is then false. It is for
	// one process alone on its database, run step by step: the
	// deterministic simulation (internal/simtest), where a goroutine the
	// scheduler does not drive would make a schedule unrepeatable. It
	// hears nothing another process commits to the database.
	LocalFeed bool
}

// Store is the PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool

	reps *replicas.Cache

	colType map[string]string // "table.column" -> SQL type of a data-model column

	readOnce sync.Once
	readDB   *sql.DB // the read model's (AnalyticsSource)
	readSrc  *sqlread.Source

	log        *slog.Logger
	acquireMax time.Duration
	feedMu     sync.Mutex
	feedCancel context.CancelFunc // FeedCommits' goroutine (notify.go)
	feedDone   chan struct{}
	feedStarts atomic.Int64
	localFeed  bool                     // Options.LocalFeed
	localWatch func(server.CommitEvent) // FeedCommits' fn, with localFeed
}

var (
	_ server.Store     = (*Store)(nil)
	_ server.UserStore = (*Store)(nil)
)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://), as --db and HAMLET_DB take it.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url, migrates it and returns the store.
// Its errors are an *OpenError: one line that says what to fix.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, openErr(err, "URL PostgreSQL không hợp lệ (%s): hãy viết dạng postgres://người-dùng:mật-khẩu@máy:5432/cơ-sở-dữ-liệu",
			"PostgreSQL URL is not valid (%s): write it as postgres://user:password@host:5432/database", oneLine(err))
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	cc := cfg.ConnConfig
	where := fmt.Sprintf("%s:%d/%s as %s", cc.Host, cc.Port, cc.Database, cc.User)
	whereVi := fmt.Sprintf("%s:%d/%s (người dùng %s)", cc.Host, cc.Port, cc.Database, cc.User)
	// openErr's Vietnamese and English lines, with the place in each.
	at := func(err error, vi, en string) *OpenError {
		return &OpenError{vi: fmt.Sprintf(vi, whereVi, oneLine(err)), en: fmt.Sprintf(en, where, oneLine(err)), Err: err}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, at(err, "PostgreSQL tại %s: %s", "PostgreSQL at %s: %s")
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		vi, en := connectHint(err)
		return nil, &OpenError{
			vi:  fmt.Sprintf("không kết nối được PostgreSQL tại %s: %s: %s", whereVi, oneLine(err), vi),
			en:  fmt.Sprintf("cannot connect to PostgreSQL at %s: %s: %s", where, oneLine(err), en),
			Err: err,
		}
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	if opt.AcquireTimeout <= 0 {
		opt.AcquireTimeout = 5 * time.Second
	}
	s := &Store{log: log, acquireMax: opt.AcquireTimeout, pool: pool, reps: replicas.NewCache(), localFeed: opt.LocalFeed}
	if err := migrateDB(ctx, pool.Config().ConnConfig); err != nil {
		pool.Close()
		return nil, at(err, "PostgreSQL tại %s: không cập nhật được lược đồ cơ sở dữ liệu: %s", "PostgreSQL at %s: %s")
	}
	if err := s.loadColumns(ctx); err != nil {
		pool.Close()
		return nil, at(err, "PostgreSQL tại %s: %s", "PostgreSQL at %s: %s")
	}
	if _, err := s.ServerID(ctx); err != nil {
		pool.Close()
		return nil, at(err, "PostgreSQL tại %s: %s", "PostgreSQL at %s: %s")
	}
	return s, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// migrationLock is the session advisory lock key that keeps two processes
// starting at once from migrating the same database together.
const migrationLock = 0x68616d6c65740001 // "hamlet" 1

// Migrate applies the store's migrations to the database at url, as Open
// does first, and nothing else: no server id is written. Tests copy the
// database it migrates (server/pgstore/pgtest.MigratedDB), so each copy
// then opens as a restarted server's database does, and takes a server id
// of its own.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("migrate: parse the URL: %w", err)
	}
	return migrateDB(ctx, cfg)
}

// migrateDB applies both sets through internal/migrate, on one connection
// of its own that holds the migration lock.
func migrateDB(ctx context.Context, cc *pgx.ConnConfig) error {
	schemaMigs, err := SchemaMigrations()
	if err != nil {
		return err
	}
	serverMigs, err := ServerMigrations()
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()
	db.SetMaxOpenConns(1) // the lock below is the session's: one connection throughout
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`SELECT pg_advisory_lock(%d)`, int64(migrationLock))); err != nil {
		return fmt.Errorf("migrate: lock: %s", oneLine(err))
	}
	defer db.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`SELECT pg_advisory_unlock(%d)`, int64(migrationLock))) //nolint:errcheck
	if err := migrate.Apply(ctx, db, SchemaSet, schemaMigs); err != nil {
		return fmt.Errorf("data model: %w", err)
	}
	if err := migrate.Apply(ctx, db, ServerSet, serverMigs); err != nil {
		return fmt.Errorf("server tables: %w", err)
	}
	return nil
}

func (s *Store) loadColumns(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name IN ('households', 'visits', 'tutoring_records', 'field_reports')`)
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	defer rows.Close()
	s.colType = map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return fmt.Errorf("read columns: %w", err)
		}
		s.colType[t+"."+c] = typ
	}
	return rows.Err()
}

// Close stops the commit feed and closes the pool.
func (s *Store) Close() error {
	s.stopFeed()
	if s.readDB != nil {
		s.readDB.Close()
	}
	s.pool.Close()
	return nil
}

// ---- write transactions ----

// errRetry means a lock this transaction needed was busy while it held the
// log lock: waiting could deadlock, so the transaction starts over.
var errRetry = errors.New("pgstore: lock busy, transaction retried")

const maxAttempts = 20

func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	// deadlock_detected, serialization_failure; and a row SaveRows
	// inserted as new that exists after all (the row locks rule it out; run
	// again, the row is found and updated).
	return pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23505" && pe.ConstraintName == "sync_rows_pkey"
}

// Update runs fn in one transaction and commits it. When a lock conflict
// forces a rollback (see the package doc) fn runs again from the start, so
// it must only change state it also resets: the server's push path builds
// its results afresh on each run.
func (s *Store) Update(ctx context.Context, fn func(server.Tx) error) error {
	return s.write(ctx, func(w *pgTx) error { return fn(w) })
}

func (s *Store) write(ctx context.Context, fn func(w *pgTx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return trouble(err)
		}
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return trouble(err)
		}
	}
}

// acquire takes a pool connection, waiting at most AcquireTimeout for one:
// a pool whose connections all stay in use gives server.ErrBusy, not a
// request that hangs.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, s.acquireMax)
	defer cancel()
	c, err := s.pool.Acquire(actx)
	if err == nil {
		return c, nil
	}
	return nil, s.acquireErr(ctx, actx, err)
}

// acquireErr is the error of a failed wait for a pool connection: ErrBusy
// if the wait ran out (actx, bounded by AcquireTimeout) with every
// connection in use, not the caller's context (ctx).
func (s *Store) acquireErr(ctx, actx context.Context, err error) error {
	if ctx.Err() == nil && actx.Err() != nil {
		if st := s.pool.Stat(); st.AcquiredConns() >= st.MaxConns() {
			return fmt.Errorf("%w: all %d PostgreSQL connections stayed in use for %v (raise pool_max_conns in the URL, and max_connections in PostgreSQL if needed)",
				server.ErrBusy, st.MaxConns(), s.acquireMax)
		}
	}
	return fmt.Errorf("connect to PostgreSQL: %w", err)
}

// release returns a connection to the pool. One found closed means the
// server went away (restarted, failed over): every idle connection is then
// as dead as it, and the pool is emptied so the next requests connect
// afresh instead of each failing once on a stale one.
func (s *Store) release(c *pgxpool.Conn) {
	if c.Conn().IsClosed() {
		s.pool.Reset()
	}
	c.Release()
}

func (s *Store) writeOnce(ctx context.Context, fn func(w *pgTx) error) (err error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.release(conn)
	// BEGIN travels with the transaction's first statement (txconn.go).
	tx := &txConn{conn: conn.Conn()}
	// The transaction finishes even if the caller's context ends: a
	// half-done batch is rolled back below, never left open.
	bg := context.WithoutCancel(ctx)
	w := &pgTx{s: s, ctx: bg, tx: tx, reps: replicas.NewTx(s.reps)}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.rollback(bg)
			err = fmt.Errorf("write transaction panicked: %v", r)
		}
	}()
	err = fn(w)
	if err == nil {
		// The buffered writes and COMMIT, in as few round trips as it can.
		err = w.commit()
	}
	if err != nil {
		if rerr := tx.rollback(bg); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	w.reps.Commit()
	if w.logLocked {
		s.feedLocal(w.scopes, w.head)
	}
	return nil
}

// lockKey is the advisory lock key of a name: FNV-1a of its bytes. Keys of
// different things may collide; that only serialises them needlessly.
func lockKey(parts ...[]byte) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

func rowKey(table string, id syncproto.RowID) int64 {
	return lockKey([]byte("row"), []byte(table), id[:])
}
func replicaKey(r syncproto.ReplicaID) int64 { return lockKey([]byte("replica"), r[:]) }

// lock takes the advisory locks keys this transaction does not hold yet,
// in key order. Once the log lock is held it only tries (errRetry).
func (w *pgTx) lock(keys ...int64) error {
	var read func(pgx.BatchResults) error
	return w.tx.pipeline(w.ctx, func(b *pgx.Batch) { read = w.queueLock(b, keys...) }, func(br pgx.BatchResults) error {
		if read == nil {
			return nil
		}
		return read(br)
	})
}

// queueLock queues in b the statement that takes the locks (see lock) and
// returns what reads its result, nil if every lock is held already. The
// locks and the reads after them may travel in one round trip: in READ
// COMMITTED each statement takes its snapshot when it starts, so a read
// queued after the lock sees what the lock's previous holder committed.
func (w *pgTx) queueLock(b *pgx.Batch, keys ...int64) func(pgx.BatchResults) error {
	var need []int64
	for _, k := range keys {
		if !w.held[k] {
			need = append(need, k)
		}
	}
	if len(need) == 0 {
		return nil
	}
	slices.Sort(need)
	need = slices.Compact(need)
	try := w.logLocked
	if try {
		b.Queue(`SELECT bool_and(pg_try_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k`, need)
	} else {
		b.Queue(`SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k`, need)
	}
	return func(br pgx.BatchResults) error {
		if try {
			var ok bool
			if err := br.QueryRow().Scan(&ok); err != nil {
				return fmt.Errorf("lock rows: %w", err)
			}
			if !ok {
				return errRetry
			}
		} else if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock rows: %w", err)
		}
		if w.held == nil {
			w.held = map[int64]bool{}
		}
		for _, k := range need {
			w.held[k] = true
		}
		return nil
	}
}

// replica returns the id of a replica index, from the cache or the table.
func (s *Store) replica(ctx context.Context, q querier, idx int64) (syncproto.ReplicaID, error) {
	return s.reps.Resolve(idx, loadReplica(ctx, q))
}

// loadReplica reads the id of a replica index from the table.
func loadReplica(ctx context.Context, q querier) func(int64) (syncproto.ReplicaID, error) {
	return func(idx int64) (r syncproto.ReplicaID, err error) {
		var id []byte
		if err := q.QueryRow(ctx, `SELECT id FROM replicas WHERE idx = $1`, idx).Scan(&id); err != nil {
			return r, err
		}
		copy(r[:], id)
		return r, nil
	}
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

package stmtcache

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // driver "sqlite", the one this wraps
)

// DriverName is the name this driver is registered under.
const DriverName = "sqlite-stmtcache"

// Size is how many statement texts a connection keeps.
const Size = 256

func init() {
	// The driver registered as "sqlite" (not a Driver of our own), so
	// that what is registered on it package-wide applies here too.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic("stmtcache: " + err.Error())
	}
	base := db.Driver()
	db.Close()
	sql.Register(DriverName, &cachingDriver{base: base})
}

// prepares counts the statements the cache prepared, for tests.
var prepares atomic.Int64

type cachingDriver struct{ base driver.Driver }

func (d *cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	for _, ok := range []bool{
		implements[driver.ConnPrepareContext](c), implements[driver.ConnBeginTx](c),
		implements[driver.ExecerContext](c), implements[driver.QueryerContext](c),
	} {
		if !ok {
			c.Close()
			return nil, errors.New("stmtcache: the sqlite driver's connection lacks a context method")
		}
	}
	return &conn{base: c, kept: map[string]*entry{}}, nil
}

func implements[T any](v any) bool { _, ok := v.(T); return ok }

// conn is one connection and its kept statements.
type conn struct {
	base driver.Conn

	mu   sync.Mutex // database/sql uses a conn from one goroutine at a time; Rows.Close may come from another
	kept map[string]*entry
	lru  list.List // of *entry, most recently used first
	// loose are the statements PrepareContext handed out outside the
	// cache (their text busy, or a PRAGMA), until closed: Close finalizes
	// them with the connection, as a statement finalized after its
	// connection closed crashes the sqlite driver (a caller may hold
	// driver statements past the connection's life: the store's
	// logStmtCache, when database/sql drops a connection a cut pull
	// interrupted).
	loose  map[*looseStmt]bool
	closed bool
}

// entry is a kept statement.
type entry struct {
	query   string
	st      driver.Stmt
	busy    bool // its rows are open, or a caller holds it (PrepareContext)
	evicted bool // dropped from the cache while busy: closed when its rows close
	closed  bool // finalized with the connection
	at      *list.Element
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

// cacheable: a PRAGMA may act while it is prepared, so it is never kept,
// unless it is one of readOnlyPragmas.
func cacheable(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) < 6 || !strings.EqualFold(q[:6], "pragma") || readOnlyPragmas[query]
}

// readOnlyPragmas are the PRAGMA texts that do all their work when they
// run (their program reads a counter or checks the file) and change
// nothing, so a kept one does at each run what a new one would. The agent
// runs data_version at every sync and every page, and keeping it spares
// its parse. quick_check is kept too, but saves nothing: SQLite expires
// its program after every run and prepares it again at the next (helper
// 230 counted 529 runs and 529 preparations in 50 schedules), so its
// cost, a program over the whole schema, is paid at each sync whatever
// this cache does.
var readOnlyPragmas = map[string]bool{
	"PRAGMA data_version":     true,
	"PRAGMA main.quick_check": true,
}

// take returns the kept statement of query, prepared now if need be, and
// marks it busy; nil (and no error) when it is busy already or query is
// not to be kept.
func (c *conn) take(ctx context.Context, query string) (*entry, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.kept[query]; ok {
		if e.busy {
			return nil, nil
		}
		e.busy = true
		c.lru.MoveToFront(e.at)
		return e, nil
	}
	st, err := c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if !implements[driver.StmtExecContext](st) || !implements[driver.StmtQueryContext](st) {
		st.Close()
		return nil, nil
	}
	prepares.Add(1)
	e := &entry{query: query, st: st, busy: true}
	e.at = c.lru.PushFront(e)
	c.kept[query] = e
	for c.lru.Len() > Size {
		old := c.lru.Remove(c.lru.Back()).(*entry)
		delete(c.kept, old.query)
		if old.busy {
			old.evicted = true
		} else {
			old.closed = true
			old.st.Close()
		}
	}
	return e, nil
}

// give back a statement taken.
func (c *conn) give(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.busy = false
	if e.evicted && !e.closed {
		e.closed = true
		e.st.Close()
	}
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.base.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rs, err := e.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.give(e)
		return nil, err
	}
	return &rows{Rows: rs, c: c, e: e}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.base.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	defer c.give(e)
	return e.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext (DB.Prepare, Tx.Prepare) hands out the kept statement of
// query, when it is not busy, for as long as the caller holds it: closing
// it gives it back. The agent prepares its statements for each
// transaction, so they too are parsed once per connection.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	e, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		st, err := c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		l := &looseStmt{Stmt: st, c: c}
		c.mu.Lock()
		if c.loose == nil {
			c.loose = map[*looseStmt]bool{}
		}
		c.loose[l] = true
		c.mu.Unlock()
		return l, nil
	}
	return &stmt{Stmt: e.st, c: c, e: e}, nil
}

// looseStmt is a statement PrepareContext prepared outside the cache.
type looseStmt struct {
	driver.Stmt
	c      *conn
	closed bool
}

// Close finalizes the statement, unless its connection's Close did.
func (s *looseStmt) Close() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	delete(s.c.loose, s)
	return s.Stmt.Close()
}

func (s *looseStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *looseStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

//nolint:staticcheck // driver.Conn requires Begin
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// Close finalizes every kept statement, then closes the connection.
func (c *conn) Close() error {
	c.mu.Lock()
	var errs []error
	for _, e := range c.kept {
		errs = append(errs, e.st.Close())
		e.evicted = false // finalized: a holder's Close has nothing left to do
		e.closed = true
	}
	for l := range c.loose {
		l.closed = true
		errs = append(errs, l.Stmt.Close())
	}
	c.kept, c.loose, c.closed = map[string]*entry{}, nil, true
	c.lru.Init()
	c.mu.Unlock()
	errs = append(errs, c.base.Close())
	return errors.Join(errs...)
}

func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.base.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *conn) ResetSession(ctx context.Context) error {
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// stmt is a kept statement handed out by PrepareContext.
type stmt struct {
	driver.Stmt
	c      *conn
	e      *entry
	closed bool
}

func (s *stmt) Close() error {
	if !s.closed {
		s.closed = true
		s.c.give(s.e)
	}
	return nil
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// rows are a kept statement's rows: closing them gives the statement back.
type rows struct {
	driver.Rows
	c      *conn
	e      *entry
	closed bool
}

func (r *rows) Close() error {
	err := r.Rows.Close() // resets the statement
	if !r.closed {
		r.closed = true
		r.c.give(r.e)
	}
	return err
}

// The optional column-type methods of the rows, passed through
// (Rows.ColumnTypes).

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *rows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

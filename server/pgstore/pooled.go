package pgstore

import (
	"context"
	"database/sql/driver"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// pooled runs single statements outside a write transaction, each on a
// connection taken through acquire: a pool whose connections all stay in
// use answers server.ErrBusy after AcquireTimeout, on every path (the
// operator's listings, dashboard users and sessions), never a request
// that hangs. pgxpool.Pool's own Query waits as long as its context lets
// it.
type pooled struct{ s *Store }

func (s *Store) q() pooled { return pooled{s} }

func (p pooled) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer p.s.release(c)
	return c.Exec(ctx, sql, args...)
}

func (p pooled) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		p.s.release(c)
		return nil, err
	}
	r := &pooledRows{Rows: rows}
	r.release = func() { p.s.release(c) }
	return r, nil
}

func (p pooled) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return pooledRow{p: p, ctx: ctx, sql: sql, args: args}
}

// pooledRows gives its connection back once the rows are done with.
type pooledRows struct {
	pgx.Rows
	once    sync.Once
	release func()
}

func (r *pooledRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pooledRows) Close() {
	r.Rows.Close()
	r.once.Do(r.release)
}

type pooledRow struct {
	p    pooled
	ctx  context.Context
	sql  string
	args []any
}

func (r pooledRow) Scan(dest ...any) error {
	c, err := r.p.s.acquire(r.ctx)
	if err != nil {
		return err
	}
	defer r.p.s.release(c)
	return c.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
}

// busyConnector is the pool's database/sql connector (ReadDB) with the
// same bound on the wait for a connection as acquire.
type busyConnector struct {
	driver.Connector
	s *Store
}

func (b busyConnector) Connect(ctx context.Context) (driver.Conn, error) {
	// pgx's connector uses the context only to take a pool connection.
	actx, cancel := context.WithTimeout(ctx, b.s.acquireMax)
	defer cancel()
	c, err := b.Connector.Connect(actx)
	if err != nil {
		return nil, b.s.acquireErr(ctx, actx, err)
	}
	return c, nil
}

func newReadConnector(s *Store, pool *pgxpool.Pool) driver.Connector {
	return busyConnector{Connector: stdlib.GetPoolConnector(pool), s: s}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
)

// freshDatabase creates an empty database on the cluster base names and
// returns its URL and a function that drops it. Each run starts from an
// empty database, so one process and two compare on equal terms.
func freshDatabase(ctx context.Context, base string) (string, func(), error) {
	if !pgstore.IsURL(base) {
		return "", nil, fmt.Errorf("--db: give a PostgreSQL URL: postgres://user:password@host:5432/name")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("--db: %w", err)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "hamlet_load_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("--db: connect to create a fresh database: %w", err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	conn.Close(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("--db: create database %s (the URL's user needs CREATEDB): %w", name, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(dctx, base); err == nil {
			_, _ = conn.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(dctx)
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// withPool sets pool_max_conns in a PostgreSQL URL (n <= 0: unchanged).
func withPool(dbURL string, n int) string {
	if n <= 0 {
		return dbURL
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// openPostgres opens a server on the PostgreSQL database (migrating it):
// the same Admin API the CLI's team, member and code subcommands use.
func openPostgres(ctx context.Context, dbURL string) (*server.Server, error) {
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := pgstore.Open(ctx, dbURL, pgstore.Options{Logger: lg})
	if err != nil {
		return nil, err
	}
	return server.OpenWithStore(ctx, server.Config{Logger: lg, GCInterval: -1, RevokeCheck: -1}, st)
}

// preparePostgres prepares the deployment in the PostgreSQL database.
func preparePostgres(ctx context.Context, dbURL string, n, teamSize int) ([]*agent, error) {
	s, err := openPostgres(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return prepare(ctx, s, n, teamSize)
}

// countRows counts a table's rows in the database.
func countRows(ctx context.Context, dbURL, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

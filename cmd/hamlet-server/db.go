package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
)

// openServer opens the server on embedded SQLite in the data directory, or
// on the PostgreSQL database db names (--db, HAMLET_DB). A bad or
// unreachable URL is one line saying what to fix.
func openServer(ctx context.Context, e *env, cfg server.Config, db string) (*server.Server, error) {
	if db == "" {
		return server.Open(ctx, cfg)
	}
	if !pgstore.IsURL(db) {
		return nil, fmt.Errorf("--db: %s", e.msg("cần một URL PostgreSQL dạng postgres://người-dùng:mật-khẩu@máy:5432/tên",
			"give a PostgreSQL URL: postgres://user:password@host:5432/name"))
	}
	st, err := pgstore.Open(ctx, db, pgstore.Options{})
	if err != nil {
		return nil, e.dbError("--db", err)
	}
	return server.OpenWithStore(ctx, cfg, st)
}

// dbError is a failed pgstore.Open for the flag that named the database,
// in the operator's language.
func (e *env) dbError(flag string, err error) error {
	var oe *pgstore.OpenError
	if errors.As(err, &oe) {
		return fmt.Errorf("%s: %s", flag, oe.Message(e.lang))
	}
	return fmt.Errorf("%s: %w", flag, err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// openStore is the one place that chooses the store, for every command:
// the PostgreSQL database --db (or HAMLET_DB) names, else embedded SQLite
// in the data directory. A command told to use PostgreSQL never creates a
// SQLite file, so nothing it does can land where the server does not look.
// A bad or unreachable URL is one line saying what to fix.
func (e *env) openStore(ctx context.Context, cfg server.Config) (*server.Server, error) {
	if e.db == "" {
		if e.dataDir == "" {
			return nil, errors.New(e.msg("chưa có thư mục dữ liệu (--data-dir hoặc HAMLET_DATA_DIR)", "no data directory given (--data-dir or HAMLET_DATA_DIR)"))
		}
		// hamlet-agent keeps its replica in replica.db: that folder is a
		// laptop's, and a server store made beside it would serve nobody's
		// data.
		if _, err := os.Stat(filepath.Join(e.dataDir, "replica.db")); err == nil {
			if _, err := os.Stat(filepath.Join(e.dataDir, sqlitestore.DBFile)); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf(e.msg("thư mục %s là thư mục dữ liệu của hamlet-agent (có replica.db), không phải của máy chủ: hãy chọn một thư mục khác cho --data-dir",
					"%s is hamlet-agent's data directory (it holds replica.db), not a server's: give --data-dir another directory"), e.dataDir)
			}
		}
		if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf(e.msg("thư mục dữ liệu %s: %s là một tệp, không phải thư mục: hãy cho --data-dir (hoặc HAMLET_DATA_DIR) một thư mục, hoặc dời tệp đó đi",
					"data directory %s: %s is a file, not a directory: give --data-dir (or HAMLET_DATA_DIR) a directory, or move that file away"), e.dataDir, pe.Path)
			}
			return nil, fmt.Errorf("%s: %w", e.msg("tạo thư mục dữ liệu", "create data directory"), err)
		}
		st, err := sqlitestore.Open(ctx, filepath.Join(e.dataDir, sqlitestore.DBFile), sqlitestore.Options{Synchronous: e.synchronous})
		if err != nil {
			return nil, fmt.Errorf("open server: %w", err)
		}
		return server.OpenWithStore(ctx, cfg, st)
	}
	if !pgstore.IsURL(e.db) {
		return nil, fmt.Errorf("--db: %s", e.msg("cần một URL PostgreSQL dạng postgres://người-dùng:mật-khẩu@máy:5432/tên",
			"give a PostgreSQL URL: postgres://user:password@host:5432/name"))
	}
	st, err := pgstore.Open(ctx, e.db, pgstore.Options{})
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

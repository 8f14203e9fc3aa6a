package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

func init() {
	register(command{name: "migrate-store",
		vi:  "chép một triển khai SQLite (--from thư mục dữ liệu) sang PostgreSQL (--to URL) và kiểm tra; máy chủ phải dừng",
		en:  "copy a SQLite deployment (--from data dir) into PostgreSQL (--to URL) and verify it; stop the server first",
		run: runMigrateStore})
}

func runMigrateStore(ctx context.Context, e *env, args []string) error {
	fs := e.flags("migrate-store")
	from := fs.String("from", "", e.msg("thư mục dữ liệu SQLite cần chép (mặc định --data-dir)", "the SQLite data directory to copy (default --data-dir)"))
	to := fs.String("to", "", e.msg("URL PostgreSQL đích, cơ sở dữ liệu trống (mặc định --db, HAMLET_DB)", "the target PostgreSQL URL, an empty database (default --db, HAMLET_DB)"))
	batch := fs.Int("batch", 10000, e.msg("số dòng mỗi lô", "rows per batch"))
	e.jsonFlag(fs)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *from == "" {
		*from = e.dataDir
	}
	if *to == "" {
		*to = e.db // the database every other command would use
	}
	if *to == "" {
		return errors.New(e.msg("cần --to postgres://... (hoặc --db, HAMLET_DB)", "--to postgres://... is required (or --db, HAMLET_DB)"))
	}
	if !pgstore.IsURL(*to) {
		return fmt.Errorf("--to: %s", e.msg("cần một URL PostgreSQL dạng postgres://người-dùng:mật-khẩu@máy:5432/tên",
			"give a PostgreSQL URL: postgres://user:password@host:5432/name"))
	}
	path := filepath.Join(*from, sqlitestore.DBFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("--from: %s %s", e.msg("không có cơ sở dữ liệu SQLite tại", "no SQLite database at"), path)
	}
	// Opening the store brings the database to this release's schema (as
	// serve would); the copy reads it in one read transaction.
	src, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := pgstore.Open(ctx, *to, pgstore.Options{})
	if err != nil {
		return e.dbError("--to", err)
	}
	defer dst.Close()
	tables, err := dst.CopyFromSQLite(ctx, src, *batch, nil)
	if errors.Is(err, pgstore.ErrTargetNotEmpty) {
		return fmt.Errorf("--to: %s", e.msg("cơ sở dữ liệu PostgreSQL đích đã có dữ liệu của một triển khai, không chép gì: hãy chép vào một cơ sở dữ liệu mới, trống (createdb)",
			"the target PostgreSQL database already holds a deployment, nothing was copied: copy into a new, empty database (createdb)"))
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(tables)
	}
	var rows [][]string
	var total int64
	for _, t := range tables {
		rows = append(rows, []string{t.Table, strconv.FormatInt(t.Rows, 10), t.Checksum})
		total += t.Rows
	}
	e.table(e.msg("BẢNG\tSỐ DÒNG\tTỔNG KIỂM", "TABLE\tROWS\tCHECKSUM"), rows)
	e.printf("Đã chép và kiểm tra %d dòng trong %d bảng. Chạy: hamlet-server serve --db <URL>\n",
		"Copied and verified %d rows in %d tables. Now run: hamlet-server serve --db <URL>\n", total, len(tables))
	return nil
}

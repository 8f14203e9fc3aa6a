package main

import (
	"context"
	"errors"
	"os"

	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

func init() {
	register(command{name: "backup", vi: "sao lưu cơ sở dữ liệu ra tệp, kể cả khi máy chủ đang chạy (--out)",
		en: "back up the database to a file, also while serving (--out)", run: runBackup})
}

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := e.flags("backup")
	out := fs.String("out", "", e.msg("tệp sao lưu (chưa tồn tại)", "backup file (must not exist)"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if e.db != "" {
		return errors.New(e.msg("hamlet-server backup chỉ sao lưu SQLite; cơ sở dữ liệu PostgreSQL (--db, HAMLET_DB) được sao lưu bằng công cụ của PostgreSQL: pg_dump, hoặc pg_basebackup kèm lưu trữ WAL",
			"hamlet-server backup backs up SQLite only; a PostgreSQL database (--db, HAMLET_DB) is backed up with PostgreSQL's tools: pg_dump, or pg_basebackup with WAL archiving"))
	}
	if *out == "" {
		return errors.New(e.msg("cần --out", "--out is required"))
	}
	if _, err := os.Stat(*out); err == nil {
		return errors.New(e.msg("tệp đã tồn tại: ", "file exists: ") + *out)
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().Backup(ctx, *out); err != nil {
		return err
	}
	e.printf("Đã sao lưu vào %s, ảnh của phản ánh vào thư mục %s. Khôi phục: tệp thành hamlet.db, thư mục thành blobs/ cạnh nó.\n",
		"Backed up to %s, the field reports' photos to the folder %s. To restore: the file becomes hamlet.db, the folder blobs/ beside it.\n",
		*out, sqlitestore.BackupBlobsDir(*out))
	return nil
}

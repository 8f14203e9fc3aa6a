package main

import (
	"context"
)

func init() {
	register(command{name: "restored", vi: "báo rằng cơ sở dữ liệu vừa được khôi phục từ bản sao lưu bằng công cụ khác (pg_restore): chạy trước khi khởi động máy chủ",
		en: "say the database was just restored from a backup by other tools (pg_restore): run it before starting the server", run: runRestored})
}

// runRestored marks a store restored by means other than hamlet-server
// backup's copy (which carries the mark itself): the server's next start
// takes a new log epoch, and every laptop that pulled from the old log
// replays it (docs/PROTOCOL.md §7.1).
func runRestored(ctx context.Context, e *env, args []string) error {
	fs := e.flags("restored")
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().MarkRestored(ctx); err != nil {
		return err
	}
	e.printf("Đã ghi nhận: lần khởi động máy chủ tới sẽ báo cho mọi máy của các tổ rằng nhật ký đã được khôi phục, và các máy sẽ tải lại nhật ký từ đầu.\n",
		"Noted: the server's next start tells every laptop that the log was restored, and they fetch the log again from the start.\n")
	return nil
}

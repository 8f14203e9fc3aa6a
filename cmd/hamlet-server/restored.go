package main

import (
	"context"
)

func init() {
	register(command{name: "restored", vi: "báo rằng cơ sở dữ liệu vừa được khôi phục từ bản sao lưu bằng công cụ khác (pg_restore): chạy khi mọi tiến trình máy chủ đã dừng, trước khi khởi động lại",
		en: "say the database was just restored from a backup by other tools (pg_restore): run it with every server process stopped, before starting them", run: runRestored})
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
	// Each serve process reads the epoch when it starts: one left running
	// keeps the old one, and laptops syncing with both would replay the
	// whole log at every sync (helper 144).
	e.printf("Đã ghi nhận: lần khởi động máy chủ tới sẽ báo cho mọi máy của các tổ rằng nhật ký đã được khôi phục, và các máy sẽ tải lại nhật ký từ đầu. Nếu còn tiến trình hamlet-server serve nào đang chạy trên cơ sở dữ liệu này, hãy dừng tất cả rồi mới khởi động lại.\n",
		"Noted: the server's next start tells every laptop that the log was restored, and they fetch the log again from the start. If any hamlet-server serve process still runs on this database, stop them all before starting them again.\n")
	return nil
}

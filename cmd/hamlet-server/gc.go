package main

import "context"

func init() {
	register(command{name: "gc", vi: "dọn các bản ghi đã xóa mà mọi thiết bị đã nhận", en: "collect tombstones every device has acknowledged", run: runGC})
}

func runGC(ctx context.Context, e *env, args []string) error {
	fs := e.flags("gc")
	e.jsonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.Admin().GC(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(st)
	}
	e.printf("Đã dọn %d bản ghi, %d mục nhật ký (%d mục bị thay thế).\n", "Collected %d rows, %d log entries (%d superseded).\n", st.Rows, st.Entries, st.Superseded)
	return nil
}

package main

import (
	"context"
)

func init() {
	register(command{name: "device restore", vi: "khôi phục thiết bị đã bị thu hồi: mã truy cập cũ dùng lại được",
		en: "restore a revoked device: its token works again", run: runDeviceRestore, args: [2]string{"MÃ_THIẾT_BỊ", "DEVICE_ID"}})
}

func runDeviceRestore(ctx context.Context, e *env, args []string) error {
	fs := e.flags("device restore")
	e.jsonFlag(fs)
	byFlag := fs.String("device", "", e.msg("`MÃ_THIẾT_BỊ` như viết sau tên lệnh (cách viết cũ)", "`DEVICE_ID` as after the command's name (the older form)"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	id, err := e.one(fs, pos, *byFlag, e.msg("một mã thiết bị (xem: hamlet-server device list)", "device id (see: hamlet-server device list)"))
	if err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	d, err := s.Admin().RestoreDevice(ctx, id)
	if err != nil {
		return e.refusal(ctx, s, err, named{device: id}) // errtext.go
	}
	if e.json {
		return e.printJSON(d)
	}
	e.printf("Đã khôi phục thiết bị %s: mã truy cập cũ của nó dùng lại được; máy chỉ cần chạy hamlet-agent sync.\n",
		"Restored device %s: its old token works again; the laptop just runs hamlet-agent sync.\n", d.ID)
	return nil
}

package main

import (
	"context"
)

func init() {
	register(command{name: "device revoke", vi: "thu hồi quyền đồng bộ của một thiết bị (mã như trong device list)",
		en: "revoke a device's token (its id as in device list)", run: runDeviceRevoke, args: [2]string{"MÃ_THIẾT_BỊ", "DEVICE_ID"}})
}

func runDeviceRevoke(ctx context.Context, e *env, args []string) error {
	fs := e.flags("device revoke")
	byFlag := fs.String("device", "", e.msg("`MÃ_THIẾT_BỊ` như viết sau tên lệnh (cách viết cũ)", "`DEVICE_ID` as after the command's name (the older form)"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	id, err := e.one(fs, pos, *byFlag, e.msg("một mã thiết bị (xem: hamlet-server device list)", "device id (see: hamlet-server device list)"))
	if err != nil {
		return err
	}
	dev := &id
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().RevokeDevice(ctx, *dev); err != nil {
		return e.refusal(ctx, s, err, named{device: *dev}) // errtext.go
	}
	e.printf("Đã thu hồi thiết bị %s. Máy chủ đang chạy từ chối nó ngay ở yêu cầu kế tiếp và đóng phiên đang mở trong vòng 10 giây.\n"+
		"Dữ liệu trên máy đó vẫn được giữ. Để máy tiếp tục: cấp mã mới (hamlet-server code issue --member ...) rồi trên máy chạy hamlet-agent enroll; hoặc hoàn tác: hamlet-server device restore %s\n",
		"Revoked device %s. A running server refuses it at its next request and closes its open session within 10 s.\n"+
			"The data on that laptop is kept. To let it sync again: issue a new code (hamlet-server code issue --member ...) and run hamlet-agent enroll on it; or undo: hamlet-server device restore %s\n", *dev, *dev)
	return nil
}

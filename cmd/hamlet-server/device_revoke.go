package main

import (
	"context"
	"errors"
)

func init() {
	register(command{name: "device revoke", vi: "thu hồi quyền đồng bộ của một thiết bị (--device)",
		en: "revoke a device's token (--device)", run: runDeviceRevoke})
}

func runDeviceRevoke(ctx context.Context, e *env, args []string) error {
	fs := e.flags("device revoke")
	dev := fs.String("device", "", e.msg("mã thiết bị", "device id"))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dev == "" {
		return errors.New(e.msg("cần --device", "--device is required"))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().RevokeDevice(ctx, *dev); err != nil {
		return err
	}
	e.printf("Đã thu hồi thiết bị %s. Máy chủ đang chạy sẽ đóng phiên đang mở của nó trong vài giây (kiểm tra mỗi 10 giây).\n",
		"Revoked device %s. A running server closes its open session within seconds (it checks every 10 s).\n", *dev)
	return nil
}

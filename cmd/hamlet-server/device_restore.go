package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/server"
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
		return deviceError(e, id, err)
	}
	if e.json {
		return e.printJSON(d)
	}
	e.printf("Đã khôi phục thiết bị %s: mã truy cập cũ của nó dùng lại được; máy chỉ cần chạy hamlet-agent sync.\n",
		"Restored device %s: its old token works again; the laptop just runs hamlet-agent sync.\n", d.ID)
	return nil
}

// deviceError says, in the operator's language, what is wrong with a device
// command and what to do.
func deviceError(e *env, id string, err error) error {
	var re *server.ReplicaError
	switch {
	case errors.Is(err, server.ErrNotFound):
		return fmt.Errorf(e.msg("không có thiết bị %s; xem mã các thiết bị: hamlet-server device list", "no device %s; see the device ids: hamlet-server device list"), id)
	case errors.Is(err, server.ErrNotRevoked):
		return fmt.Errorf(e.msg("thiết bị %s chưa bị thu hồi nên không cần khôi phục; mã truy cập của nó vẫn dùng được",
			"device %s is not revoked, so there is nothing to restore; its token works"), id)
	case errors.As(err, &re) && errors.Is(err, server.ErrReplaced):
		return fmt.Errorf(e.msg("thiết bị %s đã được thay bằng thiết bị %s (máy đó đăng ký lại và đang giữ mã truy cập của %s); hãy khôi phục thiết bị mới: hamlet-server device restore %s",
			"device %s was replaced by device %s (the laptop enrolled again and holds %s's token); restore the newer one: hamlet-server device restore %s"),
			id, re.DeviceID, re.DeviceID, re.DeviceID)
	case errors.As(err, &re) && errors.Is(err, server.ErrReplicaActive):
		return fmt.Errorf(e.msg("dữ liệu của thiết bị %s đã được đăng ký lại và đang hoạt động trên thiết bị %s; một bản dữ liệu chỉ được hoạt động trên một thiết bị. Máy đó tiếp tục dùng thiết bị %s; nếu thật sự cần quay lại thiết bị cũ, hãy thu hồi %s trước (hamlet-server device revoke %s)",
			"device %s's replica was enrolled again and is active on device %s; one replica may be active on one device only. The laptop keeps working as %s; to go back to the old device, revoke %s first (hamlet-server device revoke %s)"),
			id, re.DeviceID, re.DeviceID, re.DeviceID, re.DeviceID)
	}
	return err
}

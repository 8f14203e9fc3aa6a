package main

import (
	"context"
	"time"
)

func init() {
	register(command{name: "device list", vi: "liệt kê thiết bị đã đăng ký", en: "list enrolled devices", run: runDeviceList})
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func runDeviceList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("device list")
	e.jsonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	devs, err := s.Admin().ListDevices(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(devs)
	}
	var rows [][]string
	for _, d := range devs {
		state := e.msg("hoạt động", "active")
		if d.Revoked != nil {
			state = e.msg("đã thu hồi", "revoked")
		}
		rows = append(rows, []string{d.ID, d.TeamID, d.Label, state, fmtTime(d.LastSeen)})
	}
	e.table(e.msg("MÃ THIẾT BỊ\tTỔ\tTÊN\tTRẠNG THÁI\tLẦN CUỐI", "DEVICE ID\tTEAM\tLABEL\tSTATE\tLAST SEEN"), rows)
	return nil
}

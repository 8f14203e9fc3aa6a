package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"

	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "device list", vi: "liệt kê thiết bị đã đăng ký và trạng thái mã truy cập (--member, --team)",
		en: "list enrolled devices and their token status (--member, --team)", run: runDeviceList})
}

// fmtTime is a time in a table whose header names the zone (zone):
// Vietnam's time, as people there write it.
func (e *env) fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return i18n.DateTimeBare(*t, e.lang)
}

// zone names the zone in the headers of the columns that hold times.
func zone(header string, cols ...int) string {
	hs := strings.Split(header, "\t")
	for _, c := range cols {
		hs[c] = i18n.WithZone(hs[c])
	}
	return strings.Join(hs, "\t")
}

// filterFlags adds --member and --team.
func filterFlags(e *env, fs interface {
	StringVar(p *string, name, value, usage string)
}) *server.DeviceFilter {
	f := &server.DeviceFilter{}
	fs.StringVar(&f.MemberID, "member", "", e.msg("chỉ của thành viên này (mã thành viên)", "only this member's (member id)"))
	fs.StringVar(&f.TeamID, "team", "", e.msg("chỉ của tổ này (mã tổ, xem hamlet-server team list)", "only this team's (team id, see hamlet-server team list)"))
	return f
}

// filterError says which filter named nothing.
func filterError(e *env, f *server.DeviceFilter, err error) error {
	if !errors.Is(err, server.ErrNotFound) {
		return err
	}
	switch {
	case f.MemberID != "" && f.TeamID != "":
		return fmt.Errorf(e.msg("không có thành viên %s hoặc tổ %s; xem mã các tổ: hamlet-server team list", "no member %s or no team %s; see the team ids: hamlet-server team list"), f.MemberID, f.TeamID)
	case f.TeamID != "":
		return fmt.Errorf(e.msg("không có tổ %s; xem mã các tổ: hamlet-server team list", "no team %s; see the team ids: hamlet-server team list"), f.TeamID)
	}
	return fmt.Errorf(e.msg("không có thành viên %s; mã thành viên được in khi thêm (hamlet-server member add) và trong hamlet-server device list", "no member %s; member ids are printed when added (hamlet-server member add) and in hamlet-server device list"), f.MemberID)
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	if s == "" {
		return "-"
	}
	return s
}

func runDeviceList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("device list")
	e.jsonFlag(fs)
	f := filterFlags(e, fs)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	devs, err := s.Admin().ListDevicesBy(ctx, *f)
	if err != nil {
		return filterError(e, f, err)
	}
	if e.json {
		if devs == nil {
			devs = []server.Device{}
		}
		return e.printJSON(devs)
	}
	var rows [][]string
	for _, d := range devs {
		state := e.msg("hoạt động", "active")
		if d.Revoked != nil {
			state = e.msg("đã thu hồi", "revoked")
		}
		rows = append(rows, []string{d.ID, d.MemberID, shortID(d.TeamID), d.Label, state, e.fmtTime(d.Revoked), e.fmtTime(d.LastSeen),
			shortID(d.Replica.String()), shortID(d.Replaces)})
	}
	e.table(zone(e.msg("MÃ THIẾT BỊ\tTHÀNH VIÊN\tTỔ\tTÊN MÁY\tMÃ TRUY CẬP\tTHU HỒI LÚC\tLẦN CUỐI\tBẢN DỮ LIỆU\tTHAY CHO",
		"DEVICE ID\tMEMBER\tTEAM\tLABEL\tTOKEN\tREVOKED AT\tLAST SEEN\tREPLICA\tREPLACES"), 5, 6), rows)
	return nil
}

package main

import (
	"context"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "code list", vi: "liệt kê mã đăng ký đã cấp: trạng thái và thiết bị đã dùng (--member, --team)",
		en: "list issued enrollment codes: status and the device that used each (--member, --team)", run: runCodeList})
}

// runCodeList lists codes without the codes themselves: only their hash is
// stored, so a lost code is replaced with hamlet-server code issue.
func runCodeList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("code list")
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
	codes, err := s.Admin().ListCodes(ctx, *f)
	if err != nil {
		return filterError(e, f, err)
	}
	now := time.Now()
	if e.json {
		type row struct {
			server.CodeInfo
			Status server.CodeStatus `json:"status"`
		}
		out := []row{}
		for _, c := range codes {
			out = append(out, row{c, c.Status(now)})
		}
		return e.printJSON(out)
	}
	status := map[server.CodeStatus][2]string{
		server.CodeUnused:  {"chưa dùng", "unused"},
		server.CodeUsed:    {"đã dùng", "used"},
		server.CodeExpired: {"hết hạn", "expired"},
	}
	var rows [][]string
	for _, c := range codes {
		st := status[c.Status(now)]
		created, expires := c.Created, c.Expires
		rows = append(rows, []string{e.fmtTime(&created), e.fmtTime(&expires), e.msg(st[0], st[1]), e.fmtTime(c.Used),
			c.MemberID, shortID(c.TeamID), orDash(c.DeviceID)})
	}
	e.table(zone(e.msg("CẤP LÚC\tHẾT HẠN\tTRẠNG THÁI\tDÙNG LÚC\tTHÀNH VIÊN\tTỔ\tTHIẾT BỊ",
		"CREATED\tEXPIRES\tSTATUS\tUSED AT\tMEMBER\tTEAM\tDEVICE"), 0, 1, 3), rows)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

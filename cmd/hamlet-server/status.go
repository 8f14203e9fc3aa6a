package main

import (
	"context"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

func init() {
	register(command{name: "status", vi: "tình trạng đồng bộ từng thiết bị (lần cuối, độ trễ)",
		en: "sync status per device (last seen, lag)", run: runStatus})
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flags("status")
	e.jsonFlag(fs)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.Admin().SyncStatus(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(st)
	}
	e.printf("Máy chủ %s, đã ghi nhận %s thay đổi.\n", "Server %s, log head %s.\n", st.ServerID, i18n.Int(int64(st.Head), e.lang))
	var rows [][]string
	for _, d := range st.Devices {
		state := ""
		if d.Revoked != nil {
			state = e.msg("đã thu hồi", "revoked")
		}
		lag := i18n.Int(int64(d.Lag), e.lang)
		if d.LagMore {
			lag = e.msg("hơn ", "over ") + lag
		}
		// The member by name: a laptop's label is often its host name ("vm").
		rows = append(rows, []string{d.ID, d.MemberName, d.Label, e.fmtTime(d.LastSeen), i18n.Int(int64(d.Cursor), e.lang), lag, state})
	}
	e.table(zone(e.msg("MÃ THIẾT BỊ\tTHÀNH VIÊN\tTÊN MÁY\tLẦN CUỐI\tĐÃ NHẬN TỚI\tCHƯA NHẬN\t", "DEVICE ID\tMEMBER\tLABEL\tLAST SEEN\tCURSOR\tLAG\t"), 3), rows)
	return nil
}

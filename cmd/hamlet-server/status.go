package main

import (
	"context"
	"strconv"
)

func init() {
	register(command{name: "status", vi: "tình trạng đồng bộ từng thiết bị (lần cuối, độ trễ)",
		en: "sync status per device (last seen, lag)", run: runStatus})
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flags("status")
	e.jsonFlag(fs)
	if err := fs.Parse(args); err != nil {
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
	e.printf("Máy chủ %s, nhật ký tới %d.\n", "Server %s, log head %d.\n", st.ServerID, st.Head)
	var rows [][]string
	for _, d := range st.Devices {
		state := ""
		if d.Revoked != nil {
			state = e.msg("đã thu hồi", "revoked")
		}
		rows = append(rows, []string{d.ID, d.Label, fmtTime(d.LastSeen), strconv.FormatUint(d.Cursor, 10), strconv.FormatUint(d.Lag, 10), state})
	}
	e.table(e.msg("MÃ THIẾT BỊ\tTÊN\tLẦN CUỐI\tCON TRỎ\tĐỘ TRỄ\t", "DEVICE ID\tLABEL\tLAST SEEN\tCURSOR\tLAG\t"), rows)
	return nil
}

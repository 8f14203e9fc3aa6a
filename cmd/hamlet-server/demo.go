package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "demo", vi: "chạy thử: dữ liệu mới, đơn vị Cà Mau 2025, một tổ mẫu, in mã đăng ký",
		en: "demo: fresh data, Cà Mau 2025 units, a demo team, prints an enrollment code", run: runDemo})
}

func runDemo(ctx context.Context, e *env, args []string) error {
	var sf serveFlags
	fs := e.serveFlagSet("demo", &sf)
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(e.dataDir, server.DBFile+suffix)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	s, err := server.Open(ctx, server.Config{DataDir: e.dataDir, Logger: e.logger(), GCInterval: -1})
	if err != nil {
		return err
	}
	a := s.Admin()
	code, err := func() (string, error) {
		if err := a.ImportUnits(ctx, schema.EmbeddedUnits2025()); err != nil {
			return "", err
		}
		for _, c := range []string{"32002", "32167"} {
			if _, err := a.AddHamlets(ctx, c, 1, 8); err != nil {
				return "", err
			}
		}
		t, err := a.CreateTeam(ctx, "32002", "Tổ CNTS Khóm 1", []string{"32002-01", "32002-02"})
		if err != nil {
			return "", err
		}
		m, err := a.AddMember(ctx, t.ID, "Thành viên thử", "leader", "")
		if err != nil {
			return "", err
		}
		code, _, err := a.IssueCode(ctx, m.ID, 24*time.Hour)
		return code, err
	}()
	s.Close()
	if err != nil {
		return err
	}
	return serve(ctx, e, sf, func(base string, _ *server.Server) {
		host := base
		if h, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")); err == nil && (h == "::" || h == "0.0.0.0" || h == "") {
			host = strings.SplitN(base, "://", 2)[0] + "://localhost:" + p
		}
		ws := "ws" + strings.TrimPrefix(host, "http")
		fmt.Fprintln(e.stdout, strings.Repeat("─", 64))
		e.printf("Hamlet demo đang chạy. Dữ liệu: %s\n", "Hamlet demo is running. Data: %s\n", e.dataDir)
		e.printf("  Máy chủ:   %s\n", "  Server:    %s\n", host)
		e.printf("  Đồng bộ:   %s/v1/sync\n", "  Sync:      %s/v1/sync\n", ws)
		e.printf("  Sức khỏe:  %s/healthz   Số liệu: %s/metrics\n", "  Health:    %s/healthz   Metrics: %s/metrics\n", host, host)
		e.printf("  Tổ mẫu:    Tổ CNTS Khóm 1 (32002-01, 32002-02)\n", "  Demo team: Tổ CNTS Khóm 1 (32002-01, 32002-02)\n")
		e.printf("  Mã đăng ký: %s   (hết hạn sau 24 giờ)\n", "  Enrollment code: %s   (expires in 24 hours)\n", code)
		e.printf("  Đăng ký máy: hamlet-agent enroll --server %s --code %s\n", "  Enroll a laptop: hamlet-agent enroll --server %s --code %s\n", host, code)
		e.printf("Nhấn Ctrl+C để dừng.\n", "Press Ctrl+C to stop.\n")
		fmt.Fprintln(e.stdout, strings.Repeat("─", 64))
	})
}

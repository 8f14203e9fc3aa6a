package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

func init() {
	register(command{name: "demo", vi: "chạy thử: dữ liệu mới, đơn vị Cà Mau 2025, một tổ mẫu, in mã đăng ký",
		en: "demo: fresh data, Cà Mau 2025 units, a demo team, prints an enrollment code", run: runDemo})
}

func runDemo(ctx context.Context, e *env, args []string) error {
	var sf serveFlags
	fs := e.serveFlagSet("demo", &sf)
	province := fs.String("province", "small", e.msg("dữ liệu mẫu: small (tỉnh Cà Mau thu nhỏ, đã sắp xếp 2025) hoặc none",
		"sample data: small (a small Cà Mau province, reorganised as in 2025) or none"))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *province != "small" && *province != "none" {
		return errors.New(e.msg("--province phải là small hoặc none", "--province must be small or none"))
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
	var loaded *loader.Result
	dashPassword := ""
	code, err := func() (string, error) {
		if *province == "small" {
			e.printf("Đang nạp tỉnh mẫu (camau.Small) qua đường đồng bộ...\n", "Loading the sample province (camau.Small) through the sync path...\n")
			res, err := loader.Load(ctx, s, camau.Small(), loader.Options{Reorganise: true})
			if err != nil {
				return "", err
			}
			loaded = res
			pw, err := demoPassword()
			if err != nil {
				return "", err
			}
			dashPassword = pw
			for _, u := range []server.NewUser{
				{Username: "so-tttt", DisplayName: "Sở KH&CN (thử)", Role: analytics.RoleProvincial, UnitCode: schema.ProvinceCodeCaMau},
				{Username: "dieu-phoi", DisplayName: "Điều phối phản ánh (thử)", Role: analytics.RoleCoordinator, UnitCode: schema.ProvinceCodeCaMau},
				{Username: "xa-an-xuyen", DisplayName: "Lãnh đạo phường An Xuyên (thử)", Role: analytics.RoleCommuneLeader, UnitCode: "32002"},
			} {
				u.Password = pw
				if _, err := a.AddUser(ctx, u); err != nil {
					return "", err
				}
			}
		}
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
		if loaded != nil {
			c := loaded.Counts
			e.printf("  Tỉnh mẫu:  %d ấp/khóm, %d hộ, %d lượt đến hộ, %d lượt hướng dẫn, %d phản ánh (%d thay đổi, %.0f thay đổi/giây)\n",
				"  Sample:    %d hamlets, %d households, %d visits, %d tutoring records, %d reports (%d changes, %.0f changes/s)\n",
				c.Hamlets, c.Households, c.Visits, c.Tutoring, c.Reports, loaded.Changes, loaded.ChangesPerSecond())
			e.printf("  Trang tổng hợp: %s/   (mở trong trình duyệt, đăng nhập bằng một tài khoản dưới đây)\n",
				"  Dashboard: %s/   (open in a browser, sign in with an account below)\n", host)
			e.printf("  API: %s/api/v1/   tài liệu: %s/api/v1/openapi.yaml\n", "  API: %s/api/v1/   docs: %s/api/v1/openapi.yaml\n", host, host)
			e.printf("  Tài khoản: so-tttt (tỉnh), dieu-phoi (điều phối), xa-an-xuyen (phường An Xuyên); mật khẩu: %s\n",
				"  Users: so-tttt (province), dieu-phoi (coordinator), xa-an-xuyen (An Xuyên ward); password: %s\n", dashPassword)
			e.printf("  Thử: curl -s -c /tmp/h -H 'Content-Type: application/json' -d '{\"username\":\"so-tttt\",\"password\":\"%s\"}' %s/api/v1/login\n",
				"  Try: curl -s -c /tmp/h -H 'Content-Type: application/json' -d '{\"username\":\"so-tttt\",\"password\":\"%s\"}' %s/api/v1/login\n", dashPassword, host)
			e.printf("        curl -s -b /tmp/h '%s/api/v1/coverage?unit=96&from=2026-09-01&to=2026-11-30'\n", "        curl -s -b /tmp/h '%s/api/v1/coverage?unit=96&from=2026-09-01&to=2026-11-30'\n", host)
		}
		e.printf("Nhấn Ctrl+C để dừng.\n", "Press Ctrl+C to stop.\n")
		fmt.Fprintln(e.stdout, strings.Repeat("─", 64))
	})
}

// demoPassword is a fresh random password for the demo's dashboard users:
// 12 letters and digits without look-alikes.
func demoPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

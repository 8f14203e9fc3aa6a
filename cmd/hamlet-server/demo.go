package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

func init() {
	register(command{name: "demo", vi: "chạy thử trên 127.0.0.1: đơn vị Cà Mau 2025, một tổ mẫu, in mã đăng ký; lần chạy sau giữ dữ liệu (--reset để làm lại)",
		en: "demo on 127.0.0.1: Cà Mau 2025 units, a demo team, prints an enrollment code; later runs keep the data (--reset starts afresh)", run: runDemo})
}

// The demo's team and member: finding them is how a second run knows the
// data is the demo's own, to keep.
const (
	demoCommune  = "32002"
	demoTeamName = "Tổ CNSCĐ Khóm 1" // the glossary's short form, as every team's name (i18n.TeamShort)
	// demoTeamNameBefore is the name earlier releases gave the demo team:
	// their demo data is still the demo's own.
	demoTeamNameBefore = "Tổ CNTS Khóm 1" //wording:allow (data of earlier releases)
	demoMemberName     = "Thành viên thử"
	// demoAccountsFile keeps the dashboard password of the demo's users in
	// the data directory (mode 0600), so a second run can print it again;
	// only its hash is in the database.
	demoAccountsFile = "demo-accounts.json"
	demoAddr         = "127.0.0.1:8750"
)

type demoAccounts struct {
	ServerID string `json:"server_id"`
	Password string `json:"password"`
}

// demoRun is what the banner prints.
type demoRun struct {
	team     string // the demo team's name
	province string // the sample loaded now, by its --province name
	code     string
	kept     bool           // the data of an earlier run, kept
	loaded   *loader.Result // the sample province, when loaded now
	users    bool           // the dashboard users exist
	password string         // "" when not known (kept, and its file is gone)
}

func runDemo(ctx context.Context, e *env, args []string) error {
	var sf serveFlags
	fs := e.serveFlagSet("demo", &sf)
	// The demo prints passwords and codes: only this machine may reach it
	// unless the operator says otherwise (--addr, HAMLET_ADDR).
	if getenv("HAMLET_ADDR", "") == "" {
		f := fs.Lookup("addr")
		f.DefValue = demoAddr
		_ = f.Value.Set(demoAddr)
	}
	province := fs.String("province", "small", "`"+strings.Join(demoProvinceNames, "|")+"` "+e.msg("dữ liệu mẫu: ", "sample data: ")+demoProvinceChoices(e))
	reset := fs.Bool("reset", false, e.msg("xóa dữ liệu thử cũ (SQLite trong thư mục dữ liệu) rồi bắt đầu lại: máy chủ mới, mật khẩu mới, máy đã đăng ký phải đăng ký lại",
		"wipe the old demo data (SQLite in the data directory) and start afresh: a new server, new passwords, enrolled laptops must enroll again"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if err := e.checkDurationEnv(); err != nil {
		return err
	}
	if err := e.checkDurations(fs); err != nil {
		return err
	}
	if _, ok := demoProvinces[*province]; !ok {
		return fmt.Errorf(e.msg("--province %q không có; chọn một trong: %s", "there is no --province %q; pick one of: %s"), *province, demoProvinceChoices(e))
	}
	if *reset {
		if e.db != "" {
			return errors.New(e.msg("--reset chỉ xóa được dữ liệu thử SQLite trong thư mục dữ liệu; với PostgreSQL (--db, HAMLET_DB) hãy dùng một cơ sở dữ liệu trống",
				"--reset wipes only a SQLite demo in the data directory; with PostgreSQL (--db, HAMLET_DB) use an empty database"))
		}
		for _, name := range []string{sqlitestore.DBFile, sqlitestore.DBFile + "-wal", sqlitestore.DBFile + "-shm", demoAccountsFile} {
			if err := os.Remove(filepath.Join(e.dataDir, name)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	// Bound first: a demo already running on the address is found before
	// this one writes to the store (a new code nobody would see).
	ln, scheme, err := e.listen(sf)
	if err != nil {
		return err
	}
	sf.ln, sf.scheme = ln, scheme
	s, err := e.openStore(ctx, server.Config{Logger: e.logger(), GCInterval: -1})
	if err != nil {
		ln.Close()
		return err
	}
	d, err := prepareDemo(ctx, e, s, *province)
	s.Close()
	if err != nil {
		ln.Close()
		return err
	}
	return serve(ctx, e, sf, func(base string, _ *server.Server) {
		host := base
		if h, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")); err == nil && (h == "::" || h == "0.0.0.0" || h == "") {
			host = strings.SplitN(base, "://", 2)[0] + "://localhost:" + p
		}
		ws := "ws" + strings.TrimPrefix(host, "http")
		fmt.Fprintln(e.stdout, strings.Repeat("─", 64))
		where := e.dataDir
		if e.db != "" {
			where = e.msg("PostgreSQL (--db)", "PostgreSQL (--db)")
		}
		e.printf("Hamlet demo đang chạy. Dữ liệu: %s\n", "Hamlet demo is running. Data: %s\n", where)
		if d.kept {
			e.printf("  Đã giữ dữ liệu thử đã có (máy chủ, máy đã đăng ký, mật khẩu); chạy với --reset để bắt đầu lại.\n",
				"  Kept the existing demo data (server, enrolled laptops, passwords); run with --reset to start afresh.\n")
		}
		e.printf("  Máy chủ:   %s\n", "  Server:    %s\n", host)
		e.printf("  Đồng bộ:   %s/v1/sync\n", "  Sync:      %s/v1/sync\n", ws)
		e.printf("  Sức khỏe:  %s/healthz   Số liệu: %s/metrics\n", "  Health:    %s/healthz   Metrics: %s/metrics\n", host, host)
		e.printf("  Tổ mẫu:    %s (32002-01, 32002-02)\n", "  Demo team: %s (32002-01, 32002-02)\n", d.team)
		e.printf("  Mã đăng ký: %s   (hết hạn sau 24 giờ)\n", "  Enrollment code: %s   (expires in 24 hours)\n", d.code)
		e.printf("  Đăng ký máy: hamlet-agent enroll --server %s --code %s\n", "  Enroll a laptop: hamlet-agent enroll --server %s --code %s\n", host, d.code)
		if loaded := d.loaded; loaded != nil {
			c := loaded.Counts
			teams, members := 0, 0
			if st := loaded.Structure; st != nil {
				teams = len(st.Teams)
				for _, t := range st.Teams {
					members += len(t.Members)
				}
			}
			n := func(v int) string { return i18n.Int(int64(v), e.lang) }
			e.printf("  Tỉnh mẫu (%s): %s tổ, %s thành viên, %s ấp/khóm, %s hộ, %s lượt thăm hộ, %s lượt hướng dẫn, %s phản ánh; nạp trong %s\n",
				"  Sample (%s): %s teams, %s members, %s hamlets, %s households, %s visits, %s tutoring records, %s reports; loaded in %s\n",
				d.province, n(teams), n(members), n(c.Hamlets), n(c.Households), n(c.Visits), n(c.Tutoring), n(c.Reports), i18n.Duration(loaded.Elapsed.Round(time.Second/10), e.lang))
		}
		if d.users {
			dashPassword := d.password
			if dashPassword == "" {
				dashPassword = e.msg("như đã in ở lần chạy đầu (chạy với --reset để có mật khẩu mới)", "as printed by the first run (run with --reset for new ones)")
			}
			e.printf("  Trang tổng hợp: %s/   (mở trong trình duyệt, đăng nhập bằng một tài khoản dưới đây)\n",
				"  Dashboard: %s/   (open in a browser, sign in with an account below)\n", host)
			e.printf("  API: %s/api/v1/   tài liệu: %s/api/v1/openapi.yaml\n", "  API: %s/api/v1/   docs: %s/api/v1/openapi.yaml\n", host, host)
			e.printf("  Tài khoản: so-tttt (tỉnh), dieu-phoi (điều phối), xa-an-xuyen (phường An Xuyên); mật khẩu: %s\n",
				"  Users: so-tttt (province), dieu-phoi (coordinator), xa-an-xuyen (An Xuyên ward); password: %s\n", dashPassword)
			if d.password != "" {
				e.printf("  Thử: curl -s -c /tmp/h -H 'Content-Type: application/json' -d '{\"username\":\"so-tttt\",\"password\":\"%s\"}' %s/api/v1/login\n",
					"  Try: curl -s -c /tmp/h -H 'Content-Type: application/json' -d '{\"username\":\"so-tttt\",\"password\":\"%s\"}' %s/api/v1/login\n", d.password, host)
				from, to := "2026-09-01", "2026-11-30"
				if p := demoProvinces[d.province]; p.scale != nil { // the period the sample's rows are in
					from, to = p.scale().From, p.scale().To
				}
				e.printf("        curl -s -b /tmp/h '%s/api/v1/coverage?unit=96&from=%s&to=%s'\n", "        curl -s -b /tmp/h '%s/api/v1/coverage?unit=96&from=%s&to=%s'\n", host, from, to)
			}
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

// prepareDemo keeps the demo data an earlier run left in the store (a new
// enrollment code for its member, the saved password), loads it into an
// empty store, and refuses a store that holds anything else: the demo's
// sample data does not belong in a real deployment's database.
func prepareDemo(ctx context.Context, e *env, s *server.Server, province string) (demoRun, error) {
	a := s.Admin()
	teams, err := a.Teams(ctx)
	if err != nil {
		return demoRun{}, err
	}
	for _, t := range teams {
		if (t.Name == demoTeamName || t.Name == demoTeamNameBefore) && t.CommuneCode == demoCommune {
			return keepDemo(ctx, e, s, t)
		}
	}
	units, err := a.Units(ctx, "", "")
	if err != nil {
		return demoRun{}, err
	}
	if len(teams) > 0 || len(units) > 0 {
		if e.db != "" {
			return demoRun{}, errors.New(e.msg(
				"cơ sở dữ liệu --db đã có dữ liệu không phải của bản chạy thử, nên demo không nạp dữ liệu mẫu vào đó: dùng một cơ sở dữ liệu PostgreSQL trống",
				"the --db database holds data that is not the demo's, so the demo loads nothing into it: use an empty PostgreSQL database"))
		}
		return demoRun{}, fmt.Errorf("%s", e.msg(
			"thư mục dữ liệu "+e.dataDir+" đã có dữ liệu không phải của bản chạy thử, nên demo không nạp dữ liệu mẫu vào đó: dùng --data-dir khác, hoặc chạy với --reset để xóa nó",
			"the data directory "+e.dataDir+" holds data that is not the demo's, so the demo loads nothing into it: use another --data-dir, or run with --reset to wipe it"))
	}
	d := demoRun{team: demoTeamName, province: province}
	if p := demoProvinces[province]; p.scale != nil {
		e.printf("Đang nạp tỉnh mẫu %s qua đường đồng bộ (%s)...\n", "Loading the sample province %s through the sync path (%s)...\n", province, e.msg(p.vi, p.en))
		res, err := loader.Load(ctx, s, p.scale(), loader.Options{Reorganise: true})
		if err != nil {
			return d, err
		}
		d.loaded = res
		pw, err := demoPassword()
		if err != nil {
			return d, err
		}
		for _, u := range []server.NewUser{
			{Username: "so-tttt", DisplayName: "Sở KH&CN (thử)", Role: analytics.RoleProvincial, UnitCode: schema.ProvinceCodeCaMau},
			{Username: "dieu-phoi", DisplayName: "Điều phối phản ánh (thử)", Role: analytics.RoleCoordinator, UnitCode: schema.ProvinceCodeCaMau},
			{Username: "xa-an-xuyen", DisplayName: "Lãnh đạo phường An Xuyên (thử)", Role: analytics.RoleCommuneLeader, UnitCode: demoCommune},
		} {
			u.Password = pw
			if _, err := a.AddUser(ctx, u); err != nil {
				return d, err
			}
		}
		if err := saveDemoAccounts(e, demoAccounts{ServerID: s.ID().String(), Password: pw}); err != nil {
			return d, err
		}
		d.users, d.password = true, pw
	}
	if err := a.ImportUnits(ctx, schema.EmbeddedUnits2025()); err != nil {
		return d, err
	}
	for _, c := range []string{demoCommune, "32167"} {
		if _, err := a.AddHamlets(ctx, c, 1, 8); err != nil {
			return d, err
		}
	}
	t, err := a.CreateTeam(ctx, demoCommune, demoTeamName, []string{"32002-01", "32002-02"})
	if err != nil {
		return d, err
	}
	m, err := a.AddMember(ctx, t.ID, demoMemberName, "leader", "")
	if err != nil {
		return d, err
	}
	d.code, _, err = a.IssueCode(ctx, m.ID, 24*time.Hour)
	return d, err
}

// keepDemo is a second run on the demo's own data: nothing is wiped, the
// enrolled laptops keep syncing, and the demo member gets a fresh code.
func keepDemo(ctx context.Context, e *env, s *server.Server, team server.Team) (demoRun, error) {
	a := s.Admin()
	d := demoRun{kept: true, team: team.Name}
	codes, err := a.ListCodes(ctx, server.DeviceFilter{TeamID: team.ID})
	if err != nil {
		return d, err
	}
	member := ""
	if len(codes) > 0 {
		member = codes[0].MemberID
	} else {
		m, err := a.AddMember(ctx, team.ID, demoMemberName, "leader", "")
		if err != nil {
			return d, err
		}
		member = m.ID
	}
	if d.code, _, err = a.IssueCode(ctx, member, 24*time.Hour); err != nil {
		return d, err
	}
	users, err := a.Users(ctx)
	if err != nil {
		return d, err
	}
	d.users = len(users) > 0
	if b, err := os.ReadFile(filepath.Join(e.dataDir, demoAccountsFile)); err == nil {
		var acc demoAccounts
		if json.Unmarshal(b, &acc) == nil && acc.ServerID == s.ID().String() {
			d.password = acc.Password
		}
	}
	return d, nil
}

func saveDemoAccounts(e *env, acc demoAccounts) error {
	b, err := json.Marshal(acc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.dataDir, demoAccountsFile), b, 0o600)
}

// demoProvinces are the example's scales the demo loads (examples/camau),
// by their --province names, with what each is and how long it takes to
// load on a laptop (2 cores, SQLite; README).
var demoProvinces = map[string]struct {
	scale  func() camau.Scale
	vi, en string
}{
	"seed2023": {camau.Seed2023, "số liệu năm 2023 theo báo cáo của tỉnh: 343 tổ, 1.610 thành viên ở 45/101 xã, 142 phản ánh tháng 7/2022; vài giây",
		"the province's 2023 figures: 343 teams, 1,610 members in 45 of 101 communes, 142 reports in July 2022; seconds"},
	"small": {camau.Small, "tỉnh Cà Mau thu nhỏ: 12 tổ, vài nghìn hộ; vài giây", "a small Cà Mau province: 12 teams, a few thousand households; seconds"},
	"full": {camau.Province, "cả tỉnh: 863 tổ, 300.000 hộ, 1 triệu lượt hướng dẫn, 50.000 phản ánh; nạp mất vài phút",
		"the whole province: 863 teams, 300,000 households, 1 million tutoring records, 50,000 reports; takes minutes to load"},
	"none": {nil, "không nạp, chỉ có đơn vị hành chính và tổ mẫu", "nothing but the units and the demo team"},
}

var demoProvinceNames = []string{"seed2023", "small", "full", "none"}

func demoProvinceChoices(e *env) string {
	out := make([]string, len(demoProvinceNames))
	for i, n := range demoProvinceNames {
		p := demoProvinces[n]
		out[i] = n + " (" + e.msg(p.vi, p.en) + ")"
	}
	return strings.Join(out, "; ")
}

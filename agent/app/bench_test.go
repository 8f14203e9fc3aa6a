package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The app's speed on a big replica (issue 18): a team's 20,000
// households and 80,000 tutoring records, with 20,000 visits and 2,000
// reports, as a clone from the server leaves them. Every page is timed
// through the whole handler (guard, page, template) as the browser asks
// for it: server time. `make bench-app` runs them 5 times and prints the
// medians.

const (
	benchHouseholds = 20000
	benchTutoring   = 80000
	benchVisits     = 20000
	benchReports    = 2000
	benchHamlets    = 10
)

var bigApp struct {
	once    sync.Once
	a       *app.App
	r       *agent.Replica
	dir     string
	cookie  string
	host    string
	hh      string // a household with tutoring records
	err     error
	elapsed time.Duration
}

var (
	families = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm"}
	middles  = []string{"Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Hoài", "Kim", "Đức"}
	givens   = []string{"An", "Bình", "Châu", "Dũng", "Đức", "Em", "Giang", "Hà", "Hải", "Hòa", "Hùng", "Khang", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Tú", "Tư", "Uyên", "Vy", "Xuân", "Yến"}
	streets  = []string{"Lý Thường Kiệt", "Trần Hưng Đạo", "Nguyễn Trãi", "Phan Ngọc Hiển", "Đề Thám", "Ngô Quyền", "Hùng Vương"}
)

// bigReplica builds the replica once per test process: the team's rows
// arrive as pulled changes from another laptop, as a first sync brings
// them.
func bigReplica(b *testing.B) {
	bigApp.once.Do(func() {
		t0 := time.Now()
		bigApp.err = buildBig()
		bigApp.elapsed = time.Since(t0)
	})
	require.NoError(b, bigApp.err)
}

func buildBig() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hamlet-app-bench-")
	if err != nil {
		return err
	}
	bigApp.dir = dir
	r, err := agent.Open(ctx, filepath.Join(dir, "replica.db"))
	if err != nil {
		return err
	}
	bigApp.r = r
	scope := make([]agent.Hamlet, benchHamlets)
	hamlets := make([]string, benchHamlets)
	for i := range scope {
		hamlets[i] = fmt.Sprintf("32002-%02d", i+1)
		scope[i] = agent.Hamlet{Code: hamlets[i], Name: fmt.Sprintf("Khóm %d", i+1)}
	}
	member := uuid.NewString()
	if err := r.SetEnrollment(ctx, &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: member, TeamName: "Tổ CNSCĐ Khóm 1", Scope: scope}); err != nil {
		return err
	}
	origin := uuid.New()
	var seq uint64
	hlc := syncproto.MakeHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	var batch []syncproto.Change
	var cursor uint64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ch := &syncproto.Changes{From: cursor, To: cursor + uint64(len(batch)), Changes: batch}
		cursor = ch.To
		batch = nil
		_, err := r.ApplyChanges(ctx, ch)
		return err
	}
	row := func(table string, id uuid.UUID, scope string, fields ...any) error {
		for i := 0; i < len(fields); i += 2 {
			seq++
			hlc++
			v, err := syncproto.ValueOf(fields[i+1])
			if err != nil {
				return err
			}
			batch = append(batch, syncproto.Change{Table: table, Row: id, Field: fields[i].(string), Value: v, HLC: hlc,
				Dot: syncproto.Dot{Replica: origin, Seq: seq}, Scope: scope})
		}
		if len(batch) >= 10000 {
			return flush()
		}
		return nil
	}
	today := time.Now()
	day := func(daysAgo int) string { return schema.Today(today.AddDate(0, 0, -daysAgo)) }
	thisMonth := int(today.Day()) - 1 // days since the 1st
	hh := make([]uuid.UUID, benchHouseholds)
	for i := range hh {
		hh[i] = uuid.New()
		h := hamlets[i%benchHamlets]
		name := families[i%len(families)] + " " + middles[(i/len(families))%len(middles)] + " " + givens[(i/7)%len(givens)]
		if err := row("households", hh[i], h, "hamlet_code", h, "head_name", name,
			"address", fmt.Sprintf("Số %d, đường %s", 1+i%300, streets[i%len(streets)]), "phone", fmt.Sprintf("09%08d", i),
			"members_count", int64(1+i%6), "has_smartphone", i%3 != 0, "vneid_installed", i%2 == 0,
			"active", i%50 != 0, "registered_on", "2025-07-15"); err != nil {
			return err
		}
	}
	skills := schema.Skills()
	for i := 0; i < benchVisits; i++ {
		h := (i * 7) % benchHouseholds
		ago := 10 + i%150
		if i%3 == 0 {
			ago = i % (thisMonth + 1)
		}
		if err := row("visits", uuid.New(), hamlets[h%benchHamlets], "hamlet_code", hamlets[h%benchHamlets], "household_id", hh[h].String(),
			"volunteer_id", member, "visited_on", day(ago), "notes", "Hướng dẫn cài đặt ứng dụng"); err != nil {
			return err
		}
	}
	for i := 0; i < benchTutoring; i++ {
		h := i % benchHouseholds
		ago := 10 + i%170
		if i%4 == 0 {
			ago = i % (thisMonth + 1)
		}
		outcome := "independent"
		if i%3 == 0 {
			outcome = "needs_help"
		}
		if err := row("tutoring_records", uuid.New(), hamlets[h%benchHamlets], "hamlet_code", hamlets[h%benchHamlets], "household_id", hh[h].String(),
			"volunteer_id", member, "skill", skills[(i/benchHouseholds+h)%len(skills)].Code, "taught_on", day(ago), "outcome", outcome); err != nil {
			return err
		}
	}
	cats := schema.ReportCategories()
	for i := 0; i < benchReports; i++ {
		h := (i * 11) % benchHouseholds
		if err := row("field_reports", uuid.New(), hamlets[h%benchHamlets], "hamlet_code", hamlets[h%benchHamlets], "household_id", hh[h].String(),
			"volunteer_id", member, "category", cats[i%len(cats)].Code, "description", "Đèn đường trước nhà văn hóa ấp bị hỏng",
			"status", "submitted", "submitted_at", today.Add(-time.Duration(i)*time.Minute).UnixMilli(), "consent_disclose", false); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	a, err := app.New(app.Config{Replica: r, TokenPath: filepath.Join(dir, "token"), Server: "http://127.0.0.1:1"})
	if err != nil {
		return err
	}
	launch, err := a.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	bigApp.a, bigApp.hh = a, hh[0].String()
	u, _ := url.Parse(launch)
	bigApp.host = u.Host
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, benchRequest("GET", u.RequestURI(), nil))
	if w.Code != http.StatusOK {
		return fmt.Errorf("launch URL: %d", w.Code)
	}
	c := w.Result().Cookies()[0]
	bigApp.cookie = c.Name + "=" + c.Value
	return nil
}

// benchRequest is a request as the browser on this laptop sends it.
func benchRequest(method, target string, form url.Values) *http.Request {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://"+bigApp.host)
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Host = bigApp.host
	req.RemoteAddr = "127.0.0.1:50000"
	if bigApp.cookie != "" {
		req.Header.Set("Cookie", bigApp.cookie)
	}
	return req
}

func serve(b *testing.B, target string) int {
	w := httptest.NewRecorder()
	bigApp.a.Handler().ServeHTTP(w, benchRequest("GET", target, nil))
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", target, w.Code, w.Body.String())
	}
	return w.Body.Len()
}

// BenchmarkAppPages times every page (server time per request).
func BenchmarkAppPages(b *testing.B) {
	bigReplica(b)
	b.Logf("replica: %d households, %d tutoring records, %d visits, %d reports, built in %s",
		benchHouseholds, benchTutoring, benchVisits, benchReports, bigApp.elapsed.Round(time.Millisecond))
	hh := bigApp.hh
	for _, pg := range []struct{ name, path string }{
		{"home", "/"},
		{"home-skill-list", "/?list=skill&skill=ehealth_record"},
		{"households", "/households"},
		{"households-page-100", "/households?page=100"},
		{"search-keystroke-ngu", "/households?fragment=1&q=ngu"},
		{"search-keystroke-n", "/households?fragment=1&q=n"},
		{"search-keystroke-duc-hamlet", "/households?fragment=1&q=duc&hamlet=32002-03"},
		{"household", "/households/" + hh},
		{"household-edit", "/households/" + hh + "/edit"},
		{"visit-form", "/households/" + hh + "/visit"},
		{"report-form", "/reports/new?household=" + hh},
		{"reports", "/reports"},
		{"sync", "/sync"},
		{"sync-status", "/sync/status"},
		{"enroll", "/enroll"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			serve(b, pg.path) // warm: the index is built at the first request
			b.ResetTimer()
			size := 0
			for i := 0; i < b.N; i++ {
				size = serve(b, pg.path)
			}
			b.ReportMetric(float64(size)/1024, "KB/page")
		})
	}
}

// BenchmarkAppAfterWrite times the page that follows a write: the search
// index is rebuilt from the replica (the write itself is not timed).
func BenchmarkAppAfterWrite(b *testing.B) {
	bigReplica(b)
	ctx := context.Background()
	id, err := agent.ParseID("households", bigApp.hh)
	require.NoError(b, err)
	for _, pg := range []struct{ name, path string }{
		{"search-keystroke-ngu", "/households?fragment=1&q=ngu"},
		{"home", "/"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				require.NoError(b, bigApp.r.EditHousehold(ctx, id, agent.Fields{"notes": fmt.Sprintf("lần %d", i)}))
				b.StartTimer()
				serve(b, pg.path)
			}
		})
	}
}

// BenchmarkAppAfterOtherProcess times the page that follows a write by
// another process (a CLI command beside the app): the index reads every
// household again (its sort keys and folded texts kept).
func BenchmarkAppAfterOtherProcess(b *testing.B) {
	bigReplica(b)
	ctx := context.Background()
	other, err := agent.Open(ctx, bigApp.r.Path())
	require.NoError(b, err)
	defer other.Close()
	id, err := agent.ParseID("households", bigApp.hh)
	require.NoError(b, err)
	for _, pg := range []struct{ name, path string }{
		{"search-keystroke-ngu", "/households?fragment=1&q=ngu"},
		{"home", "/"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				require.NoError(b, other.EditHousehold(ctx, id, agent.Fields{"notes": fmt.Sprintf("CLI %d", i)}))
				b.StartTimer()
				serve(b, pg.path)
			}
		})
	}
}

// BenchmarkAppSave times a household saved through the form (the
// replica's write, fsync included, and the redirect).
func BenchmarkAppSave(b *testing.B) {
	bigReplica(b)
	w := httptest.NewRecorder()
	bigApp.a.Handler().ServeHTTP(w, benchRequest("GET", "/households/new", nil))
	tok := csrfRE.FindStringSubmatch(w.Body.String())
	require.NotNil(b, tok)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		bigApp.a.Handler().ServeHTTP(w, benchRequest("POST", "/households/new", url.Values{"csrf": {tok[1]}, "hamlet_code": {"32002-01"},
			"head_name": {fmt.Sprintf("Hộ thử %d", i)}, "phone": {"0912345678"}, "active": {"on"}}))
		if w.Code != http.StatusSeeOther {
			b.Fatalf("save: %d %s", w.Code, w.Body.String())
		}
	}
}

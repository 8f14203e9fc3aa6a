package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

var fixedNow = time.Date(2026, 11, 16, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600)) // a Monday

func startAPI(t *testing.T) *servertest.TS {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
	apitest.AddUser(t, ts.Admin, "tinh", analytics.RoleProvincial, schema.ProvinceCodeCaMau)
	apitest.AddUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
	apitest.AddUser(t, ts.Admin, "dieuphoi", analytics.RoleCoordinator, servertest.CommuneA)
	apitest.AddUser(t, ts.Admin, "cntt", analytics.RoleOperator, schema.ProvinceCodeCaMau)
	return ts
}

func TestLoginSessionsAndErrors(t *testing.T) {
	ts := startAPI(t)
	anon := &apitest.Session{T: t, Base: ts.URL}

	st, b := anon.Do("GET", "/api/v1/me", nil)
	require.Equal(t, 401, st)
	require.Equal(t, "unauthenticated", string(apitest.ErrorOf(t, b).Code))

	// The cookie: HttpOnly, SameSite=Lax, not Secure over plain HTTP.
	body, _ := json.Marshal(map[string]string{"username": "XA-A", "password": apitest.Password})
	hc := apitest.Client(t)
	resp, err := hc.Post(ts.URL+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == server.SessionCookie {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.False(t, cookie.Secure)
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.AddCookie(cookie)
	resp, err = hc.Do(req)
	require.NoError(t, err)
	var me struct {
		User server.User        `json:"user"`
		Unit analytics.UnitInfo `json:"unit"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&me))
	resp.Body.Close()
	require.Equal(t, "xa-a", me.User.Username)
	require.Equal(t, servertest.CommuneA, me.Unit.Code)

	// Logout ends the session.
	c := apitest.SignIn(t, ts.URL, "tinh")
	require.Equal(t, 200, c.Get("/api/v1/me", nil))
	st, _ = c.Do("POST", "/api/v1/logout", nil)
	require.Equal(t, 200, st)
	require.Equal(t, 401, c.Get("/api/v1/me", nil))

	// Disabled users cannot use their sessions.
	c = apitest.SignIn(t, ts.URL, "cntt")
	require.NoError(t, ts.Admin.DisableUser(context.Background(), "cntt"))
	require.Equal(t, 401, c.Get("/api/v1/me", nil))

	// Wrong passwords: 401, then 429 with a Vietnamese hint once the
	// username has failed too often from this address (server/throttle_test.go:
	// another address is not refused).
	for i := 0; i < 5; i++ {
		st, b = anon.Do("POST", "/api/v1/login", map[string]string{"username": "dieuphoi", "password": "sai-mat-khau"})
		require.Equal(t, 401, st)
		require.Equal(t, "bad_credentials", string(apitest.ErrorOf(t, b).Code))
	}
	st, b = anon.Do("POST", "/api/v1/login", map[string]string{"username": "dieuphoi", "password": apitest.Password})
	require.Equal(t, 429, st)
	e := apitest.ErrorOf(t, b)
	require.Equal(t, "too_many_attempts", string(e.Code))
	require.Contains(t, e.Hint, "Đăng nhập sai quá nhiều lần")

	// Bad parameters name themselves.
	c = apitest.SignIn(t, ts.URL, "tinh")
	st, b = c.Do("GET", "/api/v1/coverage?from=2026-13-01", nil)
	require.Equal(t, 400, st)
	require.Contains(t, apitest.ErrorOf(t, b).Message, "from")
	st, b = c.Do("GET", "/api/v1/coverage?unit=99999", nil)
	require.Equal(t, 400, st)
	require.Contains(t, apitest.ErrorOf(t, b).Message, "unit")
	st, b = c.Do("GET", "/api/v1/stats?by=day", nil)
	require.Equal(t, 400, st)
	require.Contains(t, apitest.ErrorOf(t, b).Message, "by")
	st, _ = c.Do("GET", "/api/v1/export/nothing.csv", nil)
	require.Equal(t, 400, st)
	st, b = c.Do("GET", "/api/v1/reports/not-a-uuid", nil)
	require.Equal(t, 400, st)
	require.Contains(t, apitest.ErrorOf(t, b).Message, "id")
	st, _ = anon.Do("POST", "/api/v1/login", map[string]string{"username": "tinh"})
	require.Equal(t, 400, st)
	resp, err = hc.Post(ts.URL+"/api/v1/login", "text/plain", strings.NewReader("tinh"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 415, resp.StatusCode)
	st, _ = anon.Do("POST", "/api/v1/logout", nil)
	require.Equal(t, 200, st, "signing out without a session is no error")

	// The OpenAPI document is served, as embedded.
	resp, err = hc.Get(ts.URL + "/api/v1/openapi.yaml")
	require.NoError(t, err)
	spec, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, api.OpenAPISpec(), spec)
}

// The OpenAPI document is a valid OpenAPI 3 document (kin-openapi's
// validation: references resolve, schemas and examples are well formed),
// describing every route the server mounts under /api/v1. Every answer
// the API tests receive is checked against it (apitest.Transport).
func TestOpenAPIDocument(t *testing.T) {
	doc, err := apitest.Doc()
	require.NoError(t, err)
	require.Equal(t, "3.0.3", doc.OpenAPI)
	for _, op := range []struct{ method, path string }{
		{"POST", "/login"}, {"POST", "/logout"}, {"GET", "/me"}, {"GET", "/units/{code}"}, {"GET", "/coverage"},
		{"GET", "/stats"}, {"GET", "/reports"}, {"GET", "/reports/{id}"}, {"POST", "/reports/{id}/transition"},
		{"GET", "/export/{file}"}, {"GET", "/openapi.yaml"},
	} {
		item := doc.Paths.Find(op.path)
		require.NotNil(t, item, op.path)
		require.NotNil(t, item.GetOperation(op.method), "%s %s", op.method, op.path)
	}

	// The check fails an answer that strays from the document.
	jsonCT := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	user := `{"id":"9b2f8f55-8e33-4a4b-9d3c-8f1a3c1b2a10","username":"xa-a","display_name":"A","role":"commune_leader","unit_code":"32002","created":"2026-11-16T02:00:00Z"}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"as documented", "GET", "/api/v1/me", 200, jsonCT, `{"user":` + user + `}`, true},
		{"error as documented", "GET", "/api/v1/me", 401, jsonCT, `{"error":{"code":"unauthenticated","message":"m","hint":"h","hint_en":"h"}}`, true},
		{"unknown path, 404 error", "GET", "/api/v1/nothing", 404, jsonCT, `{"error":{"code":"not_found","message":"m","hint":"h","hint_en":"h"}}`, true},
		{"status not documented", "GET", "/api/v1/me", 418, jsonCT, `{"error":{"code":"x","message":"m","hint":"h","hint_en":"h"}}`, false},
		{"required property missing", "GET", "/api/v1/me", 200, jsonCT, `{}`, false},
		{"undocumented property", "GET", "/api/v1/me", 200, jsonCT, `{"user":` + user + `,"secret":1}`, false},
		{"wrong type", "GET", "/api/v1/reports?limit=1", 200, jsonCT, `{"total":"1","overdue":0,"offset":0,"reports":[]}`, false},
		{"not in an enum", "GET", "/api/v1/me", 200, jsonCT, `{"user":` + strings.Replace(user, "commune_leader", "mayor", 1) + `}`, false},
		{"wrong content type", "GET", "/api/v1/me", 200, http.Header{"Content-Type": {"text/html"}}, `{"user":` + user + `}`, false},
		{"error without its hint", "GET", "/api/v1/me", 401, jsonCT, `{"error":{"code":"x","message":"m"}}`, false},
		{"unknown path answered 200", "GET", "/api/v1/nothing", 200, jsonCT, `{}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://127.0.0.1"+tc.path, nil)
			require.NoError(t, err)
			err = apitest.Check(req, tc.status, tc.header, []byte(tc.body))
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestUnitAuthorisation(t *testing.T) {
	ts := startAPI(t)
	leader := apitest.SignIn(t, ts.URL, "xa-a")
	prov := apitest.SignIn(t, ts.URL, "tinh")

	var d analytics.UnitDetail
	require.Equal(t, 200, leader.Get("/api/v1/units/"+servertest.CommuneA, &d))
	require.Len(t, d.Children, 4) // the fixture's four hamlets
	require.Empty(t, d.Path, "the province above the leader's commune is not theirs to browse")
	require.Equal(t, 200, leader.Get("/api/v1/units/"+ts.HamletsA[0], nil))

	st, b := leader.Do("GET", "/api/v1/coverage?unit="+servertest.CommuneB, nil)
	require.Equal(t, 403, st)
	require.Equal(t, "out_of_unit", string(apitest.ErrorOf(t, b).Code))
	st, _ = leader.Do("GET", "/api/v1/coverage?unit="+schema.ProvinceCodeCaMau, nil)
	require.Equal(t, 403, st)
	st, _ = leader.Do("GET", "/api/v1/units/"+ts.HamletsB[0], nil)
	require.Equal(t, 403, st)
	st, _ = leader.Do("GET", "/api/v1/export/teams.csv?unit="+servertest.CommuneB, nil)
	require.Equal(t, 403, st)

	var c analytics.Coverage
	require.Equal(t, 200, leader.Get("/api/v1/coverage", &c)) // defaults: own unit, this month
	require.Equal(t, servertest.CommuneA, c.Unit.Code)
	require.Equal(t, "2026-11-01", c.Period.From.Format(time.DateOnly))
	require.Equal(t, "2026-11-30", c.Period.To.Format(time.DateOnly))

	require.Equal(t, 200, prov.Get("/api/v1/coverage?unit="+servertest.CommuneB, nil))
	var ts2 analytics.TeamStats
	require.Equal(t, 200, prov.Get("/api/v1/stats", &ts2))
	require.Equal(t, 2, ts2.Teams)
	require.Equal(t, 2, ts2.CommunesWithTeams)
}

// A coordinator's transition is a synced change of the server's replica:
// the volunteer's replica receives it on its next pull.
func TestTransitionSyncsBackToTheVolunteer(t *testing.T) {
	ts := startAPI(t)
	dev := ts.NewDevice(t, ts.TeamA)
	cl := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
	report := uuid.New()
	hamlet := ts.HamletsA[0]
	submitted := fixedNow.Add(-3 * time.Hour) // Monday 06:00: due by 10:00 (working hours from 07:30)
	fields := []struct {
		f string
		v syncproto.Value
	}{
		{"hamlet_code", syncproto.String(hamlet)}, {"volunteer_id", syncproto.String(uuid.NewString())},
		{"category", syncproto.String(schema.ReportCategories()[0].Code)}, {"description", syncproto.String("Đèn đường hỏng")},
		{"reporter_name", syncproto.String("Nguyễn Văn Bí Mật")}, {"reporter_phone", syncproto.String("0912345678")},
		{"consent_disclose", syncproto.Bool(false)}, {"status", syncproto.String("submitted")},
		{"submitted_at", syncproto.Int(submitted.UnixMilli())},
	}
	var changes []syncproto.Change
	for _, f := range fields {
		changes = append(changes, w.Write("field_reports", report, f.f, f.v, hamlet))
	}
	ack, err := cl.Push(1, changes)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	_, _, cursor, err := cl.PullAll(0)
	require.NoError(t, err)

	coord := apitest.SignIn(t, ts.URL, "dieuphoi")
	leader := apitest.SignIn(t, ts.URL, "xa-a")
	path := "/api/v1/reports/" + report.String()

	// Each role's view: only the coordinator sees who reported.
	var v analytics.ReportView
	require.Equal(t, 200, coord.Get(path, &v))
	require.Equal(t, "Nguyễn Văn Bí Mật", v.ReporterName)
	require.NotNil(t, v.Deadline)
	require.Equal(t, "dispatch", v.Deadline.Step)
	require.False(t, v.Deadline.Overdue)
	var lv analytics.ReportView
	require.Equal(t, 200, leader.Get(path, &lv))
	require.Empty(t, lv.ReporterName)
	require.Empty(t, lv.ReporterPhone)
	require.True(t, lv.ReporterHidden)

	// Only coordinators transition; "returned" needs a reason; the
	// workflow's rules hold.
	st, b := leader.Do("POST", path+"/transition", map[string]string{"to": "dispatched"})
	require.Equal(t, 403, st, string(b))
	st, b = coord.Do("POST", path+"/transition", map[string]string{"to": "returned"})
	require.Equal(t, 400, st)
	require.Equal(t, "reason_required", string(apitest.ErrorOf(t, b).Code))
	st, b = coord.Do("POST", path+"/transition", map[string]string{"to": "resolved"})
	require.Equal(t, 409, st)
	require.Equal(t, "invalid_transition", string(apitest.ErrorOf(t, b).Code))
	st, b = coord.Do("POST", path+"/transition", map[string]string{"to": "dispatched", "agency": "Điện lực Cà Mau"})
	require.Equal(t, 200, st, string(b))
	var tr api.TransitionResponse
	require.NoError(t, json.Unmarshal(b, &tr))
	require.Equal(t, "submitted", tr.Transition.From)
	require.Equal(t, "dispatched", tr.Report.Status)
	require.Equal(t, "response", tr.Report.Deadline.Step)

	// The volunteer's replica pulls the outcome, authored by the server.
	got, _, _, err := cl.PullAll(cursor)
	require.NoError(t, err)
	byField := map[string]syncproto.Change{}
	for _, c := range got {
		require.Equal(t, report, c.Row)
		byField[c.Field] = c
	}
	require.Equal(t, "dispatched", byField["status"].Value.AsString())
	require.Equal(t, "Điện lực Cà Mau", byField["agency"].Value.AsString())
	require.Contains(t, byField, "dispatched_at")
	require.Equal(t, ts.Server.ID(), byField["status"].Dot.Replica)
	require.Equal(t, changes[7].Dot, byField["status"].Base, "the server's write is based on the volunteer's")

	// Out-of-unit coordinators get 403; unknown reports 404.
	apitest.AddUser(t, ts.Admin, "dieuphoi-b", analytics.RoleCoordinator, servertest.CommuneB)
	other := apitest.SignIn(t, ts.URL, "dieuphoi-b")
	st, _ = other.Do("POST", path+"/transition", map[string]string{"to": "in_progress"})
	require.Equal(t, 403, st)
	st, _ = coord.Do("GET", "/api/v1/reports/"+uuid.NewString(), nil)
	require.Equal(t, 404, st)

	// Exports carry the same view: the leader's CSV has no reporter.
	st, b = leader.Do("GET", "/api/v1/export/reports.csv", nil)
	require.Equal(t, 200, st)
	require.True(t, strings.HasPrefix(string(b), "\ufeffMã phản ánh,"), string(b[:40]))
	require.NotContains(t, string(b), "Bí Mật")
	st, b = coord.Do("GET", "/api/v1/export/reports.csv?lang=en", nil)
	require.Equal(t, 200, st)
	require.Contains(t, string(b), "Bí Mật")
	require.True(t, strings.HasPrefix(string(b), "\ufeffReport id,"))
	for _, table := range api.ExportTables {
		for _, ext := range []string{"csv", "xlsx"} {
			st, b := coord.Do("GET", "/api/v1/export/"+table+"."+ext, nil)
			require.Equal(t, 200, st, "%s.%s: %s", table, ext, b)
			require.NotEmpty(t, b)
		}
	}
}

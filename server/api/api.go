package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/export"
	"github.com/hamlet-vn/hamlet/syncproto"
	"github.com/hamlet-vn/hamlet/workcal"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec is the API's OpenAPI document, as served at
// /api/v1/openapi.yaml.
func OpenAPISpec() []byte { return openAPISpec }

// Core is what the API needs of the server (*server.Server): its request
// tracking and clock, the read model, the sign-in domain and the report
// workflow. Nothing else: the API reads no store.
type Core interface {
	Track(h http.HandlerFunc) http.HandlerFunc
	Now() time.Time
	Analytics() (*analytics.Index, error)
	SignIn(ctx context.Context, username, password, addr string) (server.SignedIn, error)
	SessionUser(ctx context.Context, token string) (server.User, error)
	SignOut(ctx context.Context, token string) error
	Transition(ctx context.Context, reportID syncproto.RowID, req server.TransitionRequest) (server.TransitionResult, error)
}

// API serves /api/v1.
type API struct {
	core Core
	log  *slog.Logger
	q    Query
}

// New makes the API over core; log takes its lines (ids and codes only).
func New(core Core, log *slog.Logger) *API {
	return &API{core: core, log: log, q: Query{Now: core.Now, Log: log}}
}

// Mount adds the /api/v1 routes to mux.
func (a *API) Mount(mux *http.ServeMux) {
	const p = "/api/v1"
	mux.HandleFunc("POST "+p+"/login", a.core.Track(a.handleLogin))
	mux.HandleFunc("POST "+p+"/logout", a.core.Track(a.handleLogout))
	mux.HandleFunc("GET "+p+"/me", a.core.Track(a.authed(a.handleMe)))
	mux.HandleFunc("GET "+p+"/units/{code}", a.core.Track(a.authed(a.handleUnit)))
	mux.HandleFunc("GET "+p+"/coverage", a.core.Track(a.authed(a.handleCoverage)))
	mux.HandleFunc("GET "+p+"/stats", a.core.Track(a.authed(a.handleStats)))
	mux.HandleFunc("GET "+p+"/reports", a.core.Track(a.authed(a.handleReports)))
	mux.HandleFunc("GET "+p+"/reports/{id}", a.core.Track(a.authed(a.handleReport)))
	mux.HandleFunc("POST "+p+"/reports/{id}/transition", a.core.Track(a.authed(a.handleTransition)))
	mux.HandleFunc("GET "+p+"/export/{file}", a.core.Track(a.authed(a.handleExport)))
	mux.HandleFunc("GET "+p+"/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(openAPISpec)
	})
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		server.WriteHTTPError(w, &server.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path,
			HintVI: "Không có địa chỉ này. Xem tài liệu API tại /api/v1/openapi.yaml.", HintEN: "No such endpoint. See /api/v1/openapi.yaml."})
	})
}

// ---- sign-in ----

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is what POST /api/v1/login returns (the token is also set
// as the hamlet_session cookie).
type LoginResponse struct {
	Token   string      `json:"token"`
	Expires time.Time   `json:"expires"`
	User    server.User `json:"user"`
}

func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &server.APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "send the body as application/json",
				HintVI: "Dữ liệu gửi lên phải ở dạng JSON (Content-Type: application/json).", HintEN: "Send the body as JSON (Content-Type: application/json)."}
		}
	} else {
		// A browser form cannot post JSON cross-site without this header;
		// requiring it is the CSRF guard of cookie-authenticated POSTs.
		return &server.APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "Content-Type: application/json is required",
			HintVI: "Thiếu Content-Type: application/json.", HintEN: "Content-Type: application/json is required."}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &server.APIError{Status: http.StatusBadRequest, Code: "bad_body", Message: "the body is not the JSON this endpoint takes: " + err.Error(),
			HintVI: "Dữ liệu gửi lên không đúng dạng JSON của yêu cầu này.", HintEN: "The body is not the JSON this endpoint takes."}
	}
	return nil
}

func (a *API) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	in, err := a.core.SignIn(r.Context(), req.Username, req.Password, server.ClientAddr(r))
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	SetSessionCookie(w, r, in.Token, in.Expires)
	server.WriteJSON(w, http.StatusOK, LoginResponse{Token: in.Token, Expires: in.Expires, User: in.User})
}

// SetSessionCookie sets the session cookie the API and the dashboard share
// (so the export links of /api/v1 work from a page), or with tok "" clears
// it: HttpOnly, SameSite=Lax, Secure under TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, tok string, exp time.Time) {
	c := &http.Cookie{Name: server.SessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil}
	if tok == "" {
		c.MaxAge = -1
	} else {
		c.Expires, c.MaxAge = exp, int(server.SessionTTL.Seconds())
	}
	http.SetCookie(w, c)
}

// sessionToken is the bearer token or the session cookie.
func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(server.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (a *API) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.core.SignOut(r.Context(), sessionToken(r)); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	SetSessionCookie(w, r, "", time.Time{})
	server.WriteJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

type authedHandler func(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index)

// authed resolves the session to a user (401 JSON otherwise).
func (a *API) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x, err := a.core.Analytics()
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		u, err := a.core.SessionUser(r.Context(), sessionToken(r))
		if errors.Is(err, server.ErrNotFound) {
			server.WriteHTTPError(w, errNotSignedIn)
			return
		}
		if err != nil {
			a.log.Error("read session", server.LogErr, err)
			server.WriteHTTPError(w, err)
			return
		}
		if u.UnitChangedOn != "" {
			server.WriteHTTPError(w, errUnitChanged(u)) // no data until the operator confirms the unit (server/unit_review.go)
			return
		}
		h(w, r, u, x)
	}
}

// ---- authorisation by unit ----

// Authorize checks that the caller may see unit code: it must lie
// within the caller's unit in the tree in force. Unknown or retired units
// are a 400 naming the parameter.
func (q Query) Authorize(ctx context.Context, x *analytics.Index, u server.User, param, code string) error {
	if x.Within(code, u.UnitCode) {
		return nil
	}
	// The tree may have changed since the last refresh, or not be loaded.
	if _, err := x.Unit(ctx, code); err != nil {
		return AnalyticsError(param, err)
	}
	if x.Within(code, u.UnitCode) {
		return nil
	}
	q.Log.Info("out-of-unit request refused", "user", u.ID, "unit", code)
	return ErrOutOfUnit(code)
}

// AnalyticsError maps the read model's errors to API errors.
func AnalyticsError(param string, err error) error {
	var ue *analytics.UnitError
	if errors.As(err, &ue) {
		if ue.Retired != "" {
			return &server.APIError{Status: http.StatusBadRequest, Code: "unit_retired", Message: fmt.Sprintf("parameter %s: %s", param, ue.Error()),
				HintVI: fmt.Sprintf("Đơn vị %s đã giải thể ngày %s; số liệu của đơn vị này nay tính vào: %s.", ue.Code, ue.Retired, strings.Join(ue.Successors, ", ")),
				HintEN: fmt.Sprintf("Unit %s was retired on %s; its figures now count under: %s.", ue.Code, ue.Retired, strings.Join(ue.Successors, ", "))}
		}
		return server.BadParam(param, fmt.Sprintf("unknown admin unit %q", ue.Code))
	}
	return err
}

// ---- query parameters ----

// vnZone is the zone of every time the dashboard, the API's periods and
// the exports show: Vietnam's, fixed (no machine's zoneinfo involved).
var vnZone = workcal.Vietnam

// Query reads what a leader asks of the read model from a request (unit,
// period, level, status, category, report id) and checks that the user may
// see it. The dashboard's pages read their requests through it too, so a
// page and the API can never disagree on what a user may see: a unit
// outside the user's is a 403 there as here.
type Query struct {
	Now func() time.Time
	Log *slog.Logger
}

// Period reads from and to (YYYY-MM-DD, both included); the default is the
// current month in Vietnam.
func (q Query) Period(r *http.Request) (analytics.Period, error) {
	qs := r.URL.Query()
	now := q.Now().In(vnZone)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := analytics.Period{From: first, To: first.AddDate(0, 1, -1)}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		v := strings.TrimSpace(qs.Get(f.name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return p, server.BadParam(f.name, fmt.Sprintf("%q is not a date YYYY-MM-DD", v))
		}
		if t.Year() < 2000 || t.Year() > 2150 {
			return p, server.BadParam(f.name, fmt.Sprintf("%q is outside 2000..2150", v))
		}
		*f.t = t
	}
	if qs.Get("from") != "" && qs.Get("to") == "" && p.To.Before(p.From) {
		p.To = p.From.AddDate(0, 1, -1)
	}
	if p.To.Before(p.From) {
		return p, server.BadParam("to", "the end of the period is before its start")
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return p, server.BadParam("to", "a period spans at most ten years")
	}
	return p, nil
}

// Unit is ?unit=, defaulting to the caller's unit, authorised.
func (q Query) Unit(r *http.Request, x *analytics.Index, u server.User) (string, error) {
	code := strings.TrimSpace(r.URL.Query().Get("unit"))
	if code == "" {
		code = u.UnitCode
	}
	if len(code) > 20 {
		return "", server.BadParam("unit", "an admin unit code is at most 20 characters")
	}
	return code, q.Authorize(r.Context(), x, u, "unit", code)
}

// ---- endpoints ----

func (a *API) handleMe(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	resp := map[string]any{"user": u}
	if d, err := x.Unit(r.Context(), u.UnitCode); err == nil {
		resp["unit"] = d.Unit
	}
	server.WriteJSON(w, http.StatusOK, resp)
}

func (a *API) handleUnit(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	code := r.PathValue("code")
	if err := a.q.Authorize(r.Context(), x, u, "code", code); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	d, err := x.Unit(r.Context(), code)
	if err != nil {
		server.WriteHTTPError(w, AnalyticsError("code", err))
		return
	}
	// The path above the caller's own unit is not theirs to browse.
	var path []analytics.UnitInfo
	for _, p := range d.Path {
		if x.Within(p.Code, u.UnitCode) {
			path = append(path, p)
		}
	}
	d.Path = path
	if d.Path == nil {
		d.Path = []analytics.UnitInfo{}
	}
	server.WriteJSON(w, http.StatusOK, d)
}

func levelParam(r *http.Request) (schema.Level, error) {
	switch l := r.URL.Query().Get("level"); l {
	case "", "children":
		return "", nil
	case "district", "commune", "hamlet":
		return schema.Level(l), nil
	default:
		return "", server.BadParam("level", fmt.Sprintf("%q: want district, commune or hamlet", l))
	}
}

func (q Query) Coverage(r *http.Request, u server.User, x *analytics.Index) (*analytics.Coverage, error) {
	unit, err := q.Unit(r, x, u)
	if err != nil {
		return nil, err
	}
	p, err := q.Period(r)
	if err != nil {
		return nil, err
	}
	level, err := levelParam(r)
	if err != nil {
		return nil, err
	}
	c, err := x.CoverageBy(r.Context(), unit, p, level)
	if err != nil {
		return nil, AnalyticsError("unit", err)
	}
	return c, nil
}

func (a *API) handleCoverage(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	c, err := a.q.Coverage(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, c)
}

func (q Query) Stats(r *http.Request, u server.User, x *analytics.Index) (*analytics.TeamStats, error) {
	unit, err := q.Unit(r, x, u)
	if err != nil {
		return nil, err
	}
	p, err := q.Period(r)
	if err != nil {
		return nil, err
	}
	g := analytics.Weekly
	switch by := r.URL.Query().Get("by"); by {
	case "", "week":
	case "month":
		g = analytics.Monthly
	default:
		return nil, server.BadParam("by", fmt.Sprintf("%q: want week or month", by))
	}
	st, err := x.TeamStats(r.Context(), unit, p, g, q.Now())
	if err != nil {
		return nil, AnalyticsError("unit", err)
	}
	return st, nil
}

func (a *API) handleStats(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	st, err := a.q.Stats(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, st)
}

func (q Query) Reports(r *http.Request, u server.User, x *analytics.Index) ([]analytics.ReportView, error) {
	unit, err := q.Unit(r, x, u)
	if err != nil {
		return nil, err
	}
	qs := r.URL.Query()
	f := analytics.ReportFilter{Status: qs.Get("status"), Category: qs.Get("category")}
	if f.Status != "" && !schema.ReportStatus(f.Status).Valid() {
		return nil, server.BadParam("status", fmt.Sprintf("unknown status %q (want one of %s)", f.Status, strings.Join(schema.EnumValues(schema.EnumReportStatus), ", ")))
	}
	if f.Category != "" && !ValidCategory(f.Category) {
		return nil, server.BadParam("category", fmt.Sprintf("unknown category %q", f.Category))
	}
	// The period filters only when given: open reports of any age matter.
	if qs.Get("from") != "" || qs.Get("to") != "" {
		p, err := q.Period(r)
		if err != nil {
			return nil, err
		}
		f.Period = &p
	}
	views, err := x.Reports(r.Context(), unit, f, u.Role, q.Now())
	if err != nil {
		return nil, AnalyticsError("unit", err)
	}
	return views, nil
}

func ValidCategory(c string) bool {
	for _, rc := range schema.ReportCategories() {
		if rc.Code == c {
			return true
		}
	}
	return false
}

// ReportList is a page of GET /api/v1/reports.
type ReportList struct {
	Total   int                    `json:"total"`
	Overdue int                    `json:"overdue"`
	Offset  int                    `json:"offset"`
	Reports []analytics.ReportView `json:"reports"`
}

func IntParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, server.BadParam(name, fmt.Sprintf("%q: want a whole number in %d..%d", v, lo, hi))
	}
	return n, nil
}

func (a *API) handleReports(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	limit, err := IntParam(r, "limit", 200, 1, 5000)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	offset, err := IntParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	views, err := a.q.Reports(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	out := ReportList{Total: len(views), Offset: offset, Reports: []analytics.ReportView{}}
	for _, v := range views {
		if v.Deadline != nil && v.Deadline.Overdue {
			out.Overdue++
		}
	}
	if offset < len(views) {
		out.Reports = views[offset:min(len(views), offset+limit)]
	}
	server.WriteJSON(w, http.StatusOK, out)
}

// Report finds the report of the path's id the caller may see: 404 when there is none, 403
// when it lies outside the caller's unit.
func (q Query) Report(r *http.Request, u server.User, x *analytics.Index) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return id, server.BadParam("id", "a report id is a UUID")
	}
	hamlet, err := x.UnitOf(r.Context(), id.String())
	if err != nil {
		return id, err
	}
	if hamlet == "" {
		return id, server.ErrReportNotFound
	}
	if err := q.Authorize(r.Context(), x, u, "id", hamlet); err != nil {
		var ae *server.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return id, ErrOutOfUnit(hamlet) // a report in a hamlet no longer in force
		}
		return id, err
	}
	return id, nil
}

func (a *API) handleReport(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	id, err := a.q.Report(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	v, ok, err := x.Report(r.Context(), id.String(), u.Role, a.core.Now())
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	if !ok {
		server.WriteHTTPError(w, server.ErrReportNotFound)
		return
	}
	server.WriteJSON(w, http.StatusOK, v)
}

// TransitionResponse is what POST /reports/{id}/transition returns.
type TransitionResponse struct {
	Transition server.TransitionResult `json:"transition"`
	Report     analytics.ReportView    `json:"report"`
}

func (a *API) handleTransition(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	if u.Role != analytics.RoleCoordinator {
		server.WriteHTTPError(w, ErrForbiddenRole("change a field report's status (coordinators only)"))
		return
	}
	id, err := a.q.Report(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	var req server.TransitionRequest
	if err := decodeJSON(r, &req); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	res, err := a.core.Transition(r.Context(), id, req)
	if err != nil {
		var ae *server.APIError
		if !errors.As(err, &ae) {
			a.log.Error("field report transition failed", server.LogRow, id.String(), server.LogErr, err)
		}
		server.WriteHTTPError(w, err)
		return
	}
	a.log.Info("transition by user", "user", u.ID, server.LogRow, id.String())
	v, _, err := x.Report(r.Context(), id.String(), u.Role, a.core.Now())
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, TransitionResponse{Transition: res, Report: v})
}

// ExportTables are the tables GET /api/v1/export/{table}.{csv|xlsx} serves.
var ExportTables = []string{"coverage", "teams", "tutoring", "report_stats", "trend", "reports"}

func (a *API) handleExport(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	file := r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	if ext != "csv" && ext != "xlsx" {
		server.WriteHTTPError(w, server.BadParam("file", fmt.Sprintf("%q: want {table}.csv or {table}.xlsx", file)))
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "vi"
	}
	if lang != "vi" && lang != "en" {
		server.WriteHTTPError(w, server.BadParam("lang", fmt.Sprintf("%q: want vi or en", lang)))
		return
	}
	var t *export.Table
	switch name {
	case "coverage":
		c, err := a.q.Coverage(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = export.Coverage(c)
	case "teams", "tutoring", "report_stats", "trend":
		st, err := a.q.Stats(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = map[string]func(*analytics.TeamStats) *export.Table{"teams": export.Teams, "tutoring": export.Tutoring,
			"report_stats": export.ReportStats, "trend": export.Trend}[name](st)
	case "reports":
		views, err := a.q.Reports(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = export.Reports(views)
	default:
		server.WriteHTTPError(w, server.BadParam("table", fmt.Sprintf("%q: want one of %s", name, strings.Join(ExportTables, ", "))))
		return
	}
	var buf bytes.Buffer
	var err error
	ctype := "text/csv; charset=utf-8"
	if ext == "csv" {
		err = export.WriteCSV(&buf, t, lang)
	} else {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = export.WriteXLSX(&buf, t, lang)
	}
	if err != nil {
		a.log.Error("export failed", "table", name, server.LogErr, err)
		server.WriteHTTPError(w, err)
		return
	}
	unit := r.URL.Query().Get("unit")
	if unit == "" {
		unit = u.UnitCode
	}
	fname := fmt.Sprintf("hamlet-%s-%s.%s", name, safeName(unit), ext)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+fname+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

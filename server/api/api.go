package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/export"
	"github.com/hamlet-vn/hamlet/workcal"
)

// The dashboard API (/api/v1): sign-in, and what leaders ask (coverage,
// team statistics, field reports and their workflow, exports), every answer
// authorised by the caller's role and admin unit. openapi.yaml documents it.

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec is the API's OpenAPI document, as served at
// /api/v1/openapi.yaml.
func OpenAPISpec() []byte { return openAPISpec }

// mountAPI adds the /api/v1 routes to mux.
func (s *Server) mountAPI(mux *http.ServeMux) {
	const p = "/api/v1"
	mux.HandleFunc("POST "+p+"/login", s.Track(s.handleLogin))
	mux.HandleFunc("POST "+p+"/logout", s.Track(s.handleLogout))
	mux.HandleFunc("GET "+p+"/me", s.Track(s.authed(s.handleMe)))
	mux.HandleFunc("GET "+p+"/units/{code}", s.Track(s.authed(s.handleUnit)))
	mux.HandleFunc("GET "+p+"/coverage", s.Track(s.authed(s.handleCoverage)))
	mux.HandleFunc("GET "+p+"/stats", s.Track(s.authed(s.handleStats)))
	mux.HandleFunc("GET "+p+"/reports", s.Track(s.authed(s.handleReports)))
	mux.HandleFunc("GET "+p+"/reports/{id}", s.Track(s.authed(s.handleReport)))
	mux.HandleFunc("POST "+p+"/reports/{id}/transition", s.Track(s.authed(s.handleTransition)))
	mux.HandleFunc("GET "+p+"/export/{file}", s.Track(s.authed(s.handleExport)))
	mux.HandleFunc("GET "+p+"/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(openAPISpec)
	})
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		WriteHTTPError(w, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path,
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
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	User    User      `json:"user"`
}

func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "send the body as application/json",
				HintVI: "Dữ liệu gửi lên phải ở dạng JSON (Content-Type: application/json).", HintEN: "Send the body as JSON (Content-Type: application/json)."}
		}
	} else {
		// A browser form cannot post JSON cross-site without this header;
		// requiring it is the CSRF guard of cookie-authenticated POSTs.
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "Content-Type: application/json is required",
			HintVI: "Thiếu Content-Type: application/json.", HintEN: "Content-Type: application/json is required."}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "bad_body", Message: "the body is not the JSON this endpoint takes: " + err.Error(),
			HintVI: "Dữ liệu gửi lên không đúng dạng JSON của yêu cầu này.", HintEN: "The body is not the JSON this endpoint takes."}
	}
	return nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		WriteHTTPError(w, err)
		return
	}
	in, err := s.SignIn(r.Context(), req.Username, req.Password, ClientAddr(r))
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: in.Token, Path: "/", Expires: in.Expires, MaxAge: int(SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	WriteJSON(w, http.StatusOK, LoginResponse{Token: in.Token, Expires: in.Expires, User: in.User})
}

// sessionToken is the bearer token or the session cookie.
func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.SignOut(r.Context(), sessionToken(r)); err != nil {
		WriteHTTPError(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	WriteJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

type authedHandler func(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index)

// authed resolves the session to a user (401 JSON otherwise).
func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x, err := s.Analytics()
		if err != nil {
			WriteHTTPError(w, err)
			return
		}
		u, err := s.SessionUser(r.Context(), sessionToken(r))
		if errors.Is(err, ErrNotFound) {
			WriteHTTPError(w, errNotSignedIn)
			return
		}
		if err != nil {
			s.log.Error("read session", LogErr, err)
			WriteHTTPError(w, err)
			return
		}
		if u.UnitChangedOn != "" {
			WriteHTTPError(w, errUnitChanged(u)) // no data until the operator confirms the unit (unit_review.go)
			return
		}
		h(w, r, u, x)
	}
}

// ---- authorisation by unit ----

// authorizeUnit checks that the caller may see unit code: it must lie
// within the caller's unit in the tree in force. Unknown or retired units
// are a 400 naming the parameter.
func (s *Server) authorizeUnit(ctx context.Context, x *analytics.Index, u User, param, code string) error {
	if x.Within(code, u.UnitCode) {
		return nil
	}
	// The tree may have changed since the last refresh, or not be loaded.
	if _, err := x.Unit(ctx, code); err != nil {
		return s.analyticsError(param, err)
	}
	if x.Within(code, u.UnitCode) {
		return nil
	}
	s.log.Info("out-of-unit request refused", "user", u.ID, "unit", code)
	return errOutOfUnit(code)
}

// analyticsError maps the read model's errors to API errors.
func (s *Server) analyticsError(param string, err error) error {
	var ue *analytics.UnitError
	if errors.As(err, &ue) {
		if ue.Retired != "" {
			return &APIError{Status: http.StatusBadRequest, Code: "unit_retired", Message: fmt.Sprintf("parameter %s: %s", param, ue.Error()),
				HintVI: fmt.Sprintf("Đơn vị %s đã giải thể ngày %s; số liệu của đơn vị này nay tính vào: %s.", ue.Code, ue.Retired, strings.Join(ue.Successors, ", ")),
				HintEN: fmt.Sprintf("Unit %s was retired on %s; its figures now count under: %s.", ue.Code, ue.Retired, strings.Join(ue.Successors, ", "))}
		}
		return BadParam(param, fmt.Sprintf("unknown admin unit %q", ue.Code))
	}
	return err
}

// ---- query parameters ----

// vnZone is the zone of every time the dashboard, the API's periods and
// the exports show: Vietnam's, fixed (no machine's zoneinfo involved).
var vnZone = workcal.Vietnam

// period reads from and to (YYYY-MM-DD, both included); the default is the
// current month in Vietnam.
func (s *Server) period(r *http.Request) (analytics.Period, error) {
	q := r.URL.Query()
	now := s.now().In(vnZone)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := analytics.Period{From: first, To: first.AddDate(0, 1, -1)}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		v := strings.TrimSpace(q.Get(f.name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return p, BadParam(f.name, fmt.Sprintf("%q is not a date YYYY-MM-DD", v))
		}
		if t.Year() < 2000 || t.Year() > 2150 {
			return p, BadParam(f.name, fmt.Sprintf("%q is outside 2000..2150", v))
		}
		*f.t = t
	}
	if q.Get("from") != "" && q.Get("to") == "" && p.To.Before(p.From) {
		p.To = p.From.AddDate(0, 1, -1)
	}
	if p.To.Before(p.From) {
		return p, BadParam("to", "the end of the period is before its start")
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return p, BadParam("to", "a period spans at most ten years")
	}
	return p, nil
}

// unitParam is ?unit=, defaulting to the caller's unit, authorised.
func (s *Server) unitParam(r *http.Request, x *analytics.Index, u User) (string, error) {
	code := strings.TrimSpace(r.URL.Query().Get("unit"))
	if code == "" {
		code = u.UnitCode
	}
	if len(code) > 20 {
		return "", BadParam("unit", "an admin unit code is at most 20 characters")
	}
	return code, s.authorizeUnit(r.Context(), x, u, "unit", code)
}

// ---- endpoints ----

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	resp := map[string]any{"user": u}
	if d, err := x.Unit(r.Context(), u.UnitCode); err == nil {
		resp["unit"] = d.Unit
	}
	WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) handleUnit(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	code := r.PathValue("code")
	if err := s.authorizeUnit(r.Context(), x, u, "code", code); err != nil {
		WriteHTTPError(w, err)
		return
	}
	d, err := x.Unit(r.Context(), code)
	if err != nil {
		WriteHTTPError(w, s.analyticsError("code", err))
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
	WriteJSON(w, http.StatusOK, d)
}

func levelParam(r *http.Request) (schema.Level, error) {
	switch l := r.URL.Query().Get("level"); l {
	case "", "children":
		return "", nil
	case "district", "commune", "hamlet":
		return schema.Level(l), nil
	default:
		return "", BadParam("level", fmt.Sprintf("%q: want district, commune or hamlet", l))
	}
}

func (s *Server) coverage(r *http.Request, u User, x *analytics.Index) (*analytics.Coverage, error) {
	unit, err := s.unitParam(r, x, u)
	if err != nil {
		return nil, err
	}
	p, err := s.period(r)
	if err != nil {
		return nil, err
	}
	level, err := levelParam(r)
	if err != nil {
		return nil, err
	}
	c, err := x.CoverageBy(r.Context(), unit, p, level)
	if err != nil {
		return nil, s.analyticsError("unit", err)
	}
	return c, nil
}

func (s *Server) handleCoverage(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	c, err := s.coverage(r, u, x)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, c)
}

func (s *Server) stats(r *http.Request, u User, x *analytics.Index) (*analytics.TeamStats, error) {
	unit, err := s.unitParam(r, x, u)
	if err != nil {
		return nil, err
	}
	p, err := s.period(r)
	if err != nil {
		return nil, err
	}
	g := analytics.Weekly
	switch by := r.URL.Query().Get("by"); by {
	case "", "week":
	case "month":
		g = analytics.Monthly
	default:
		return nil, BadParam("by", fmt.Sprintf("%q: want week or month", by))
	}
	st, err := x.TeamStats(r.Context(), unit, p, g, s.now())
	if err != nil {
		return nil, s.analyticsError("unit", err)
	}
	return st, nil
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	st, err := s.stats(r, u, x)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (s *Server) reports(r *http.Request, u User, x *analytics.Index) ([]analytics.ReportView, error) {
	unit, err := s.unitParam(r, x, u)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := analytics.ReportFilter{Status: q.Get("status"), Category: q.Get("category")}
	if f.Status != "" && !schema.ReportStatus(f.Status).Valid() {
		return nil, BadParam("status", fmt.Sprintf("unknown status %q (want one of %s)", f.Status, strings.Join(schema.EnumValues(schema.EnumReportStatus), ", ")))
	}
	if f.Category != "" && !validCategory(f.Category) {
		return nil, BadParam("category", fmt.Sprintf("unknown category %q", f.Category))
	}
	// The period filters only when given: open reports of any age matter.
	if q.Get("from") != "" || q.Get("to") != "" {
		p, err := s.period(r)
		if err != nil {
			return nil, err
		}
		f.Period = &p
	}
	views, err := x.Reports(r.Context(), unit, f, u.Role, s.now())
	if err != nil {
		return nil, s.analyticsError("unit", err)
	}
	return views, nil
}

func validCategory(c string) bool {
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

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, BadParam(name, fmt.Sprintf("%q: want a whole number in %d..%d", v, lo, hi))
	}
	return n, nil
}

func (s *Server) handleReports(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	limit, err := intParam(r, "limit", 200, 1, 5000)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	views, err := s.reports(r, u, x)
	if err != nil {
		WriteHTTPError(w, err)
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
	WriteJSON(w, http.StatusOK, out)
}

// reportFor finds a report the caller may see: 404 when there is none, 403
// when it lies outside the caller's unit.
func (s *Server) reportFor(r *http.Request, u User, x *analytics.Index) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return id, BadParam("id", "a report id is a UUID")
	}
	hamlet, err := x.UnitOf(r.Context(), id.String())
	if err != nil {
		return id, err
	}
	if hamlet == "" {
		return id, errReportNotFound
	}
	if err := s.authorizeUnit(r.Context(), x, u, "id", hamlet); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return id, errOutOfUnit(hamlet) // a report in a hamlet no longer in force
		}
		return id, err
	}
	return id, nil
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	id, err := s.reportFor(r, u, x)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	v, ok, err := x.Report(r.Context(), id.String(), u.Role, s.now())
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	if !ok {
		WriteHTTPError(w, errReportNotFound)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// TransitionResponse is what POST /reports/{id}/transition returns.
type TransitionResponse struct {
	Transition TransitionResult     `json:"transition"`
	Report     analytics.ReportView `json:"report"`
}

func (s *Server) handleTransition(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	if u.Role != analytics.RoleCoordinator {
		WriteHTTPError(w, errForbiddenRole("change a field report's status (coordinators only)"))
		return
	}
	id, err := s.reportFor(r, u, x)
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	var req TransitionRequest
	if err := decodeJSON(r, &req); err != nil {
		WriteHTTPError(w, err)
		return
	}
	res, err := s.Transition(r.Context(), id, req)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			s.log.Error("field report transition failed", LogRow, id.String(), LogErr, err)
		}
		WriteHTTPError(w, err)
		return
	}
	s.log.Info("transition by user", "user", u.ID, LogRow, id.String())
	v, _, err := x.Report(r.Context(), id.String(), u.Role, s.now())
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, TransitionResponse{Transition: res, Report: v})
}

// ExportTables are the tables GET /api/v1/export/{table}.{csv|xlsx} serves.
var ExportTables = []string{"coverage", "teams", "tutoring", "report_stats", "trend", "reports"}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, u User, x *analytics.Index) {
	file := r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	if ext != "csv" && ext != "xlsx" {
		WriteHTTPError(w, BadParam("file", fmt.Sprintf("%q: want {table}.csv or {table}.xlsx", file)))
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "vi"
	}
	if lang != "vi" && lang != "en" {
		WriteHTTPError(w, BadParam("lang", fmt.Sprintf("%q: want vi or en", lang)))
		return
	}
	var t *export.Table
	switch name {
	case "coverage":
		c, err := s.coverage(r, u, x)
		if err != nil {
			WriteHTTPError(w, err)
			return
		}
		t = export.Coverage(c)
	case "teams", "tutoring", "report_stats", "trend":
		st, err := s.stats(r, u, x)
		if err != nil {
			WriteHTTPError(w, err)
			return
		}
		t = map[string]func(*analytics.TeamStats) *export.Table{"teams": export.Teams, "tutoring": export.Tutoring,
			"report_stats": export.ReportStats, "trend": export.Trend}[name](st)
	case "reports":
		views, err := s.reports(r, u, x)
		if err != nil {
			WriteHTTPError(w, err)
			return
		}
		t = export.Reports(views)
	default:
		WriteHTTPError(w, BadParam("table", fmt.Sprintf("%q: want one of %s", name, strings.Join(ExportTables, ", "))))
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
		s.log.Error("export failed", "table", name, LogErr, err)
		WriteHTTPError(w, err)
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

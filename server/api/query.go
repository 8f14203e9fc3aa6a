package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/workcal"
)

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

func ValidCategory(c string) bool {
	for _, rc := range schema.ReportCategories() {
		if rc.Code == c {
			return true
		}
	}
	return false
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

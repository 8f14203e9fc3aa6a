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

	"github.com/hamlet-vn/hamlet/internal/i18n"
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

// Period reads from and to (both included; "2026-11-01" or, as people
// write it, "01/11/2026"). Without them it is the month of the latest day
// with figures in unit (analytics.LatestDay), so a leader's first view is
// not a current month still without data; with no figures at all, the
// current month in Vietnam. One end given alone keeps the other end of
// that month, or takes its own month's when it lies past that.
func (q Query) Period(r *http.Request, x *analytics.Index, unit string) (analytics.Period, error) {
	qs := r.URL.Query()
	month := q.Now().In(vnZone)
	if strings.TrimSpace(qs.Get("from")) == "" || strings.TrimSpace(qs.Get("to")) == "" {
		d, ok, err := x.LatestDay(r.Context(), unit, q.Now())
		if err != nil {
			return analytics.Period{}, AnalyticsError("unit", err)
		}
		if ok {
			month = d
		}
	}
	first := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := analytics.Period{From: first, To: first.AddDate(0, 1, -1)}
	for _, f := range []struct {
		name, vi string
		t        *time.Time
	}{{"from", "Ngày bắt đầu", &p.From}, {"to", "Ngày kết thúc", &p.To}} {
		v := strings.TrimSpace(qs.Get(f.name))
		if v == "" {
			continue
		}
		day, err := i18n.ParseDate(v)
		if err != nil {
			var de *i18n.DateError
			errors.As(err, &de)
			return p, BadParam(f.name, f.vi+": "+de.Message("vi"), fmt.Sprintf("%q is not a date (YYYY-MM-DD or DD/MM/YYYY)", v))
		}
		t, _ := time.Parse(time.DateOnly, day)
		if t.Year() < 2000 || t.Year() > 2150 {
			return p, BadParam(f.name, fmt.Sprintf("%s %s nằm ngoài các năm 2000–2150.", f.vi, i18n.Date(t, "vi")), fmt.Sprintf("%q is outside 2000..2150", v))
		}
		*f.t = t
	}
	// One end given alone, past the other's default: the period is that
	// end's month.
	from, to := strings.TrimSpace(qs.Get("from")), strings.TrimSpace(qs.Get("to"))
	switch {
	case from != "" && to == "" && p.To.Before(p.From):
		p.To = time.Date(p.From.Year(), p.From.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, -1)
	case to != "" && from == "" && p.To.Before(p.From):
		p.From = time.Date(p.To.Year(), p.To.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	if p.To.Before(p.From) {
		return p, BadParam("to", fmt.Sprintf("Ngày kết thúc (%s) đứng trước ngày bắt đầu (%s): hãy chọn lại kỳ báo cáo.", i18n.Date(p.To, "vi"), i18n.Date(p.From, "vi")),
			"the end of the period is before its start")
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return p, BadParam("to", "Một kỳ báo cáo dài nhiều nhất mười năm: hãy chọn kỳ ngắn hơn.", "a period spans at most ten years")
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
		return "", BadParam("unit", "Mã đơn vị dài nhiều nhất 20 ký tự.", "an admin unit code is at most 20 characters")
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
				HintVI: fmt.Sprintf("Đơn vị %s đã được %s từ ngày %s; số liệu của đơn vị này nay tính vào: %s.", ue.Code, i18n.Reorganised.VI, i18n.DateText(ue.Retired, "vi"), strings.Join(ue.Successors, ", ")),
				HintEN: fmt.Sprintf("Unit %s was %s on %s; its figures now count under: %s.", ue.Code, i18n.Reorganised.EN, i18n.DateText(ue.Retired, "en"), strings.Join(ue.Successors, ", "))}
		}
		return BadParam(param, fmt.Sprintf("Không có đơn vị hành chính mã %q.", ue.Code), fmt.Sprintf("unknown admin unit %q", ue.Code))
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
		return "", BadParam("level", fmt.Sprintf("Cấp %q không có; chọn district (huyện), commune (xã/phường) hoặc hamlet (ấp/khóm).", l),
			fmt.Sprintf("%q: want district, commune or hamlet", l))
	}
}

func (q Query) Coverage(r *http.Request, u server.User, x *analytics.Index) (*analytics.Coverage, error) {
	unit, err := q.Unit(r, x, u)
	if err != nil {
		return nil, err
	}
	p, err := q.Period(r, x, unit)
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
	p, err := q.Period(r, x, unit)
	if err != nil {
		return nil, err
	}
	g := analytics.Weekly
	switch by := r.URL.Query().Get("by"); by {
	case "", "week":
	case "month":
		g = analytics.Monthly
	default:
		return nil, BadParam("by", fmt.Sprintf("%q không phải cách chia; chọn week (theo tuần) hoặc month (theo tháng).", by),
			fmt.Sprintf("%q: want week or month", by))
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
	if err := CheckReportFilter(f.Status, f.Category); err != nil {
		return nil, err
	}
	// The period filters only when given: open reports of any age matter.
	if qs.Get("from") != "" || qs.Get("to") != "" {
		p, err := q.Period(r, x, unit)
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
		return id, BadParam("id", "Đường dẫn không chỉ tới một phản ánh: mã phản ánh gồm 36 ký tự chữ và số (ví dụ 3f2b8c1e-…). Hãy mở phản ánh từ danh sách.",
			"a report id is a UUID")
	}
	hamlet, err := x.UnitOf(r.Context(), id.String())
	if err != nil {
		return id, err
	}
	if hamlet == "" {
		return id, server.ErrReportNotFound
	}
	// Refused without naming the report's hamlet: where a report is, is
	// part of the report.
	if err := q.Authorize(r.Context(), x, u, "id", hamlet); err != nil {
		var ae *server.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusBadRequest || ae.Code == "out_of_unit") {
			return id, ErrReportOutOfUnit // (a 400: a report in a hamlet no longer in force)
		}
		return id, err
	}
	return id, nil
}

// CheckReportFilter checks a report list's status and category filters,
// naming the valid ones when one is not.
func CheckReportFilter(status, category string) error {
	if status != "" && !schema.ReportStatus(status).Valid() {
		return BadParam("status", fmt.Sprintf("Trạng thái %q không có; chọn một trong: %s.", status, schema.EnumChoices(schema.EnumReportStatus, "vi")),
			fmt.Sprintf("unknown status %q (want one of %s)", status, schema.EnumChoices(schema.EnumReportStatus, "en")))
	}
	if category != "" && !ValidCategory(category) {
		var vi, en []string
		for _, c := range schema.ReportCategories() {
			vi = append(vi, c.Code+" ("+c.NameVI+")")
			en = append(en, c.Code+" ("+c.NameEN+")")
		}
		return BadParam("category", fmt.Sprintf("Lĩnh vực %q không có; chọn một trong: %s.", category, strings.Join(vi, ", ")),
			fmt.Sprintf("unknown category %q (want one of %s)", category, strings.Join(en, ", ")))
	}
	return nil
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
		return 0, BadParam(name, fmt.Sprintf("Tham số %s = %q: cần một số nguyên từ %d đến %d.", name, v, lo, hi),
			fmt.Sprintf("%q: want a whole number in %d..%d", v, lo, hi))
	}
	return n, nil
}

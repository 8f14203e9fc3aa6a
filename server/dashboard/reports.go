package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The field reports page (/reports, mirrors GET /api/v1/reports) and the
// coordinator's status change (POST /reports/{id}/transition).

const reportsPerPage = 50

type statusTab struct {
	Status string
	Count  int
	URL    string
	Active bool
}

type reportCard struct {
	analytics.ReportView
	HamletName string   // the name lists show, with its code
	Link       string   // the report's own page, the link a coordinator shares
	Actions    []string // statuses a coordinator may move it to
}

func newReportCard(rv analytics.ReportView, c *webCtx, canAct bool) reportCard {
	card := reportCard{ReportView: rv, Link: "/reports/" + rv.ID,
		HamletName: rv.Hamlet.In(c.Lang) + " · " + rv.HamletCode}
	if rv.Hamlet.VI == "" {
		card.HamletName = rv.HamletCode
	}
	if canAct {
		for _, to := range []schema.ReportStatus{schema.StatusDispatched, schema.StatusInProgress, schema.StatusResolved, schema.StatusRedispatch, schema.StatusReturned} {
			if schema.CanTransition(schema.ReportStatus(rv.Status), to) {
				card.Actions = append(card.Actions, string(to))
			}
		}
	}
	return card
}

type reportsView struct {
	UnitCode string
	Crumbs   []analytics.UnitInfo
	Info     analytics.UnitInfo
	Tabs     []statusTab
	Category string
	Status   string
	Cats     []schema.ReportCategory
	Total    int
	Overdue  int
	From, To int
	PrevURL  string
	NextURL  string
	Reports  []reportCard
	CanAct   bool
	Back     string
	Exports  []exportLink
}

func (d *Dashboard) handleWebReports(w http.ResponseWriter, r *http.Request, c *webCtx) {
	ctx := r.Context()
	unit, err := d.q.Unit(r, c.X, c.User)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	q := r.URL.Query()
	status, category := q.Get("status"), q.Get("category")
	if err := api.CheckReportFilter(status, category); err != nil {
		d.webError(w, r, c, err)
		return
	}
	offset, err := api.IntParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	views, err := c.X.Reports(ctx, unit, analytics.ReportFilter{Category: category}, c.User.Role, d.core.Now())
	if err != nil {
		d.webError(w, r, c, api.AnalyticsError("unit", err))
		return
	}
	path, info, err := crumbs(ctx, c.X, c.User, unit)
	if err != nil {
		d.webError(w, r, c, api.AnalyticsError("unit", err))
		return
	}
	v := &reportsView{UnitCode: unit, Crumbs: path, Info: info, Category: category, Status: status, Cats: schema.ReportCategories(),
		CanAct: c.User.Role == analytics.RoleCoordinator, Back: r.URL.RequestURI()}
	byStatus := map[string]int{}
	var list []analytics.ReportView
	for _, rv := range views {
		byStatus[rv.Status]++
		if status == "" || rv.Status == status {
			list = append(list, rv)
		}
	}
	v.Tabs = append(v.Tabs, statusTab{Status: "", Count: len(views), URL: pageURL("/reports", "unit", unit, "category", category), Active: status == ""})
	for _, st := range schema.EnumValues(schema.EnumReportStatus) {
		v.Tabs = append(v.Tabs, statusTab{Status: st, Count: byStatus[st], URL: pageURL("/reports", "unit", unit, "category", category, "status", st), Active: st == status})
	}
	v.Total = len(list)
	for _, rv := range list {
		if rv.Deadline != nil && rv.Deadline.Overdue {
			v.Overdue++
		}
	}
	if offset >= len(list) { // past the end: the last page (an empty list: its only page)
		offset = max(0, len(list)-1) / reportsPerPage * reportsPerPage
	}
	end := min(len(list), offset+reportsPerPage)
	v.From, v.To = offset+1, end
	if offset > 0 {
		v.PrevURL = pageURL("/reports", "unit", unit, "category", category, "status", status, "offset", itoa(max(0, offset-reportsPerPage)))
	}
	if end < len(list) {
		v.NextURL = pageURL("/reports", "unit", unit, "category", category, "status", status, "offset", itoa(end))
	}
	for _, rv := range list[offset:end] {
		v.Reports = append(v.Reports, newReportCard(rv, c, v.CanAct))
	}
	v.Exports = exportLinks(c.Lang, []string{"reports"}, "unit", unit, "status", status, "category", category)
	p := d.page(c, "reports", "reports", v)
	if q.Get("done") == "1" {
		p.Notice = "done_transition"
	}
	d.render(w, r, http.StatusOK, "reports", p)
}

// reportView is the page of one report (/reports/{id}).
type reportView struct {
	Card    reportCard
	Crumbs  []analytics.UnitInfo
	Back    string
	ListURL string
}

// handleWebReport is one report's page: the link a coordinator shares.
// It is authorised as the API's GET /api/v1/reports/{id} is (api.Query
// Report): a report outside the user's unit is a 403 that says nothing
// about it, an unknown one a 404; the reporter's name and phone show only
// to the roles that may see them (analytics.Role.SeesReporter).
func (d *Dashboard) handleWebReport(w http.ResponseWriter, r *http.Request, c *webCtx) {
	id, err := d.q.Report(r, c.User, c.X)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	rv, ok, err := c.X.Report(r.Context(), id.String(), c.User.Role, d.core.Now())
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	if !ok {
		d.webError(w, r, c, server.ErrReportNotFound)
		return
	}
	canAct := c.User.Role == analytics.RoleCoordinator
	v := &reportView{Card: newReportCard(rv, c, canAct), Back: r.URL.Path, ListURL: "/reports"}
	if path, info, err := crumbs(r.Context(), c.X, c.User, rv.HamletCode); err == nil {
		v.Crumbs = append(path, info)
	}
	p := d.page(c, "report_title", "reports", v)
	if r.URL.Query().Get("done") == "1" {
		p.Notice = "done_transition"
	}
	d.render(w, r, http.StatusOK, "report", p)
}

func (d *Dashboard) handleWebTransition(w http.ResponseWriter, r *http.Request, c *webCtx) {
	if c.User.Role != analytics.RoleCoordinator {
		d.webError(w, r, c, api.ErrForbiddenRole("change a field report's status (coordinators only)"))
		return
	}
	id, err := d.q.Report(r, c.User, c.X)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	req := server.TransitionRequest{To: r.PostFormValue("to"), Agency: r.PostFormValue("agency"), Reason: r.PostFormValue("reason")}
	if _, err := d.core.Transition(r.Context(), id, req); err != nil {
		var ae *server.APIError
		if !errors.As(err, &ae) {
			d.log.Error("field report transition failed", server.LogRow, id.String(), server.LogErr, err)
		}
		d.webError(w, r, c, err)
		return
	}
	d.log.Info("transition by user (dashboard)", "user", c.User.ID, server.LogRow, id.String())
	// Back to the list, or to the report's own page, it was changed from.
	back, err := url.Parse(safeNext(r.PostFormValue("back")))
	if err != nil || (back.Path != "/reports" && back.Path != "/reports/"+id.String()) {
		back, _ = url.Parse("/reports")
	}
	bq := back.Query()
	bq.Set("done", "1")
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// handleWebPhoto serves a report's photo (thumb false) or its thumbnail:
// to exactly those who may see the report (the same check as its page,
// api.Query.Report), and only a photo the report names. An export's photo
// link is this address, so it opens only for a signed-in user with that
// right.
func (d *Dashboard) handleWebPhoto(thumb bool) func(http.ResponseWriter, *http.Request, *webCtx) {
	return func(w http.ResponseWriter, r *http.Request, c *webCtx) {
		id, err := d.q.Report(r, c.User, c.X)
		if err != nil {
			d.webError(w, r, c, err)
			return
		}
		rv, ok, err := c.X.Report(r.Context(), id.String(), c.User.Role, d.core.Now())
		if err != nil {
			d.webError(w, r, c, err)
			return
		}
		digest := r.PathValue("digest")
		if !ok || !slices.Contains(rv.Photos, digest) {
			d.webError(w, r, c, errNoPhoto)
			return
		}
		b, err := d.core.Photo(r.Context(), digest, thumb)
		if err != nil {
			d.webError(w, r, c, err)
			return
		}
		// Not kept by the browser: a commune office's PC is shared, and
		// the back button after sign-out must not show a report's photo.
		server.ServePhoto(w, r, digest, thumb, b, server.PhotoCacheBrowser)
	}
}

var errNoPhoto = &server.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "the report has no such photo",
	HintVI: "Phản ánh này không có ảnh đó (có thể ảnh đã được gỡ khỏi phản ánh). Hãy mở lại trang phản ánh.",
	HintEN: "This report has no such photo (it may have been removed from the report). Open the report's page again."}

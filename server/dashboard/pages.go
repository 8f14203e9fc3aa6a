package dashboard

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The dashboard's pages. Each reads the same query parameters as the API
// endpoint it mirrors (unit, from, to, level, status, category), through
// the same functions, so a page and the API can never disagree on what a
// user may see: a unit outside the user's is a 403 here as there.

// periodView is the period picker.
type periodView struct {
	From, To string
	Presets  []presetLink
}

type presetLink struct {
	Key    string
	URL    string
	Active bool
}

func (d *Dashboard) periodView(path string, p analytics.Period, keep ...string) periodView {
	now := d.core.Now().In(vnZone)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	v := periodView{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly)}
	for _, pr := range []struct {
		key      string
		from, to time.Time
	}{
		{"this_month", first, first.AddDate(0, 1, -1)},
		{"last_month", first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)},
		{"this_year", time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), time.Date(now.Year(), 12, 31, 0, 0, 0, 0, time.UTC)},
	} {
		kv := append(slices.Clone(keep), "from", pr.from.Format(time.DateOnly), "to", pr.to.Format(time.DateOnly))
		v.Presets = append(v.Presets, presetLink{Key: pr.key, URL: pageURL(path, kv...),
			Active: pr.from.Equal(p.From) && pr.to.Equal(p.To)})
	}
	return v
}

// crumbs is the path from the user's own unit down to unit.
func crumbs(ctx context.Context, x *analytics.Index, u server.User, unit string) ([]analytics.UnitInfo, analytics.UnitInfo, error) {
	d, err := x.Unit(ctx, unit)
	if err != nil {
		return nil, analytics.UnitInfo{}, err
	}
	var out []analytics.UnitInfo
	for _, p := range d.Path {
		if x.Within(p.Code, u.UnitCode) {
			out = append(out, p)
		}
	}
	return out, d.Unit, nil
}

func (d *Dashboard) page(c *webCtx, title, nav string, body any) *webPage {
	return &webPage{Lang: c.Lang, Title: title, Nav: nav, User: &c.User, CSRF: c.CSRF, CanSync: canSeeSync(c.User.Role), Body: body}
}

// ---- coverage ----

type sortHead struct {
	Label, Title, URL, Arrow string
	Num                      bool
}

type covRow struct {
	analytics.CoverageRow
	Link string
}

type coverageView struct {
	Unit     analytics.CoverageRow
	Info     analytics.UnitInfo
	Crumbs   []analytics.UnitInfo
	Period   periodView
	Heads    []sortHead
	Rows     []covRow
	Chart    template.HTML
	Skills   template.HTML
	Exports  []exportLink
	Hidden   [][2]string // the picker's hidden fields
	UnitCode string
}

type exportLink struct{ Name, CSV, XLSX string }

func exportLinks(lang string, names []string, kv ...string) []exportLink {
	var out []exportLink
	for _, n := range names {
		q := append(slices.Clone(kv), "lang", lang)
		out = append(out, exportLink{Name: n, CSV: pageURL("/api/v1/export/"+n+".csv", q...), XLSX: pageURL("/api/v1/export/"+n+".xlsx", q...)})
	}
	return out
}

// sortLinks makes the column headings: clicking sorts by that column,
// clicking again reverses it.
func sortLinks(path, cur, dir string, cols []sortHead, keys []string, keep ...string) []sortHead {
	for i := range cols {
		k := keys[i]
		nd := "asc"
		if cols[i].Num {
			nd = "desc"
		}
		if k == cur {
			if dir == "asc" {
				cols[i].Arrow, nd = "▲", "desc"
			} else {
				cols[i].Arrow, nd = "▼", "asc"
			}
		}
		cols[i].URL = pageURL(path, append(slices.Clone(keep), "sort", k, "dir", nd)...)
	}
	return cols
}

func (d *Dashboard) handleWebCoverage(w http.ResponseWriter, r *http.Request, c *webCtx) {
	ctx := r.Context()
	cov, err := d.q.Coverage(r, c.User, c.X)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	path, info, err := crumbs(ctx, c.X, c.User, cov.Unit.Code)
	if err != nil {
		d.webError(w, r, c, api.AnalyticsError("unit", err))
		return
	}
	from, to := cov.Period.From.Format(time.DateOnly), cov.Period.To.Format(time.DateOnly)
	level := r.URL.Query().Get("level")
	keep := []string{"unit", cov.Unit.Code, "from", from, "to", to, "level", level}
	v := &coverageView{Unit: cov.Unit, Info: info, Crumbs: path, UnitCode: cov.Unit.Code,
		Period: d.periodView("/coverage", cov.Period, "unit", cov.Unit.Code, "level", level),
		Hidden: [][2]string{{"unit", cov.Unit.Code}}}
	if level != "" {
		v.Hidden = append(v.Hidden, [2]string{"level", level})
	}
	p := d.page(c, "coverage", "coverage", v)

	// Sort the rows as asked: ?sort=name|households|reached|coverage|skill:<code>.
	q := r.URL.Query()
	sortKey, dir := q.Get("sort"), q.Get("dir")
	if dir != "asc" && dir != "desc" {
		dir = "asc"
	}
	rows := slices.Clone(cov.Children)
	skillIx := -1
	if code, ok := strings.CutPrefix(sortKey, "skill:"); ok && len(cov.Unit.Skills) > 0 {
		skillIx = slices.IndexFunc(cov.Unit.Skills, func(sc analytics.SkillCount) bool { return sc.Skill == code })
	}
	less := func(a, b analytics.CoverageRow) int {
		switch {
		case sortKey == "name":
			return cmp.Compare(a.Name, b.Name)
		case sortKey == "households":
			return cmp.Compare(a.Households, b.Households)
		case sortKey == "reached":
			return cmp.Compare(a.Reached, b.Reached)
		case sortKey == "coverage":
			return cmp.Compare(a.Coverage, b.Coverage)
		case skillIx >= 0 && skillIx < len(a.Skills) && skillIx < len(b.Skills):
			return cmp.Compare(a.Skills[skillIx].Share, b.Skills[skillIx].Share)
		}
		return cmp.Compare(a.Code, b.Code)
	}
	slices.SortStableFunc(rows, func(a, b analytics.CoverageRow) int {
		if dir == "desc" {
			return cmp.Or(less(b, a), cmp.Compare(a.Code, b.Code))
		}
		return cmp.Or(less(a, b), cmp.Compare(a.Code, b.Code))
	})
	heads := []sortHead{{Label: p.T("unit")}, {Label: p.T("coverage_pct"), Num: true}, {Label: p.T("households"), Num: true},
		{Label: p.T("reached"), Num: true}}
	keys := []string{"name", "coverage", "households", "reached"}
	for _, sc := range cov.Unit.Skills {
		heads = append(heads, sortHead{Label: p.SkillShort(sc.Skill, sc.NameVI, sc.NameEN), Title: p.Pick(sc.NameVI, sc.NameEN), Num: true})
		keys = append(keys, "skill:"+sc.Skill)
	}
	v.Heads = sortLinks("/coverage", sortKey, dir, heads, keys, "unit", cov.Unit.Code, "from", from, "to", to, "level", level)

	var bars []barItem
	for _, row := range rows {
		link := pageURL("/coverage", "unit", row.Code, "from", from, "to", to)
		v.Rows = append(v.Rows, covRow{CoverageRow: row, Link: link})
		label := row.Name
		if row.Level == string(schema.LevelHamlet) {
			label += " · " + row.Code // hamlet names repeat within a merged commune
		}
		bars = append(bars, barItem{Label: label, Value: row.Coverage, Text: p.Pct(row.Coverage), Link: link,
			Title: row.Name + ": " + p.Pct(row.Coverage) + " (" + p.Num(row.Reached) + "/" + p.Num(row.Households) + ")"})
	}
	v.Chart = hbarChart(p.T("chart_coverage"), bars, 1, "cov")
	var sk []barItem
	for _, sc := range cov.Unit.Skills {
		sk = append(sk, barItem{Label: p.SkillShort(sc.Skill, sc.NameVI, sc.NameEN), Value: sc.Share, Text: p.Pct(sc.Share),
			Title: p.Pick(sc.NameVI, sc.NameEN) + ": " + p.Pct(sc.Share) + " (" + p.Num(sc.Households) + ")"})
	}
	v.Skills = hbarChart(p.T("chart_skills"), sk, 1, "skill")
	v.Exports = exportLinks(c.Lang, []string{"coverage"}, keep...)
	d.render(w, r, http.StatusOK, "coverage", p)
}

// ---- teams ----

type teamRow struct {
	analytics.TeamRow
	CommuneName string
}

type teamsView struct {
	St      *analytics.TeamStats
	Crumbs  []analytics.UnitInfo
	Period  periodView
	Hidden  [][2]string
	Monthly bool
	Skills  template.HTML
	Trend   template.HTML
	Heads   []sortHead
	Teams   []teamRow
	Cats    []analytics.CategoryStatus
	Status  []string
	Exports []exportLink
}

func (d *Dashboard) handleWebTeams(w http.ResponseWriter, r *http.Request, c *webCtx) {
	ctx := r.Context()
	st, err := d.q.Stats(r, c.User, c.X)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	path, _, err := crumbs(ctx, c.X, c.User, st.Unit)
	if err != nil {
		d.webError(w, r, c, api.AnalyticsError("unit", err))
		return
	}
	by := r.URL.Query().Get("by")
	from, to := st.Period.From.Format(time.DateOnly), st.Period.To.Format(time.DateOnly)
	v := &teamsView{St: st, Crumbs: path, Monthly: by == "month", Period: d.periodView("/teams", st.Period, "unit", st.Unit, "by", by),
		Hidden: [][2]string{{"unit", st.Unit}}}
	if by != "" {
		v.Hidden = append(v.Hidden, [2]string{"by", by})
	}
	p := d.page(c, "teams", "teams", v)

	var sk []barItem
	most := 0.0
	for _, t := range st.TutoringBySkill {
		most = max(most, float64(t.Records))
		sk = append(sk, barItem{Label: p.SkillShort(t.Skill, t.NameVI, t.NameEN), Value: float64(t.Records), Text: p.Num(t.Records),
			Title: p.Pick(t.NameVI, t.NameEN) + ": " + p.Num(t.Records)})
	}
	v.Skills = hbarChart(p.T("tutoring_by_skill"), sk, most, "skill")
	var xl []string
	series := []lineSeries{{Name: p.T("visits"), Class: "s1"}, {Name: p.T("tutoring"), Class: "s2"}, {Name: p.T("households_reached"), Class: "s3"}}
	for _, b := range st.Trend {
		d, _ := time.Parse(time.DateOnly, b.Start)
		if v.Monthly {
			xl = append(xl, d.Format("01/2006"))
		} else {
			xl = append(xl, d.Format("02/01"))
		}
		series[0].Values = append(series[0].Values, float64(b.Visits))
		series[1].Values = append(series[1].Values, float64(b.Tutoring))
		series[2].Values = append(series[2].Values, float64(b.HouseholdsReached))
	}
	title := p.T("trend")
	if v.Monthly {
		title = p.T("trend_month")
	}
	v.Trend = lineChart(title, xl, series, c.Lang)

	// Commune names for the per-team table, from the unit's subtree.
	names := map[string]string{}
	if d, err := c.X.Unit(ctx, st.Unit); err == nil {
		names[d.Unit.Code] = d.Unit.Name
		for _, ch := range d.Children {
			names[ch.Code] = ch.Name
		}
		for _, pa := range d.Path {
			names[pa.Code] = pa.Name
		}
	}
	q := r.URL.Query()
	sortKey, dir := q.Get("sort"), q.Get("dir")
	if dir != "asc" && dir != "desc" {
		dir = "desc"
		if sortKey == "" {
			sortKey = "reached"
		}
	}
	teams := slices.Clone(st.PerTeam)
	key := func(t analytics.TeamRow) func(b analytics.TeamRow) int {
		return func(b analytics.TeamRow) int {
			switch sortKey {
			case "name":
				return cmp.Compare(t.Name, b.Name)
			case "members":
				return cmp.Compare(t.Members, b.Members)
			case "active":
				return cmp.Compare(t.ActiveMembers, b.ActiveMembers)
			case "visits":
				return cmp.Compare(t.Visits, b.Visits)
			case "tutoring":
				return cmp.Compare(t.Tutoring, b.Tutoring)
			}
			return cmp.Compare(t.HouseholdsReached, b.HouseholdsReached)
		}
	}
	slices.SortStableFunc(teams, func(a, b analytics.TeamRow) int {
		if dir == "desc" {
			return cmp.Or(key(b)(a), cmp.Compare(a.Name, b.Name))
		}
		return cmp.Or(key(a)(b), cmp.Compare(a.Name, b.Name))
	})
	for _, t := range teams {
		v.Teams = append(v.Teams, teamRow{TeamRow: t, CommuneName: cmp.Or(names[t.CommuneCode], t.CommuneCode)})
	}
	v.Heads = sortLinks("/teams", sortKey, dir, []sortHead{{Label: p.T("team")}, {Label: p.T("commune")}, {Label: p.T("members"), Num: true},
		{Label: p.T("active_short"), Num: true}, {Label: p.T("households_reached"), Num: true}, {Label: p.T("visits"), Num: true},
		{Label: p.T("tutoring"), Num: true}}, []string{"name", "commune", "members", "active", "reached", "visits", "tutoring"},
		"unit", st.Unit, "from", from, "to", to, "by", by)
	v.Heads[1].URL = "" // commune: not a sort key
	for _, cs := range st.Reports {
		if cs.Total > 0 {
			v.Cats = append(v.Cats, cs)
		}
	}
	v.Status = schema.EnumValues(schema.EnumReportStatus)
	v.Exports = exportLinks(c.Lang, []string{"teams", "tutoring", "trend", "report_stats"}, "unit", st.Unit, "from", from, "to", to, "by", by)
	d.render(w, r, http.StatusOK, "teams", p)
}

// ---- field reports ----

const reportsPerPage = 50

type statusTab struct {
	Status string
	Count  int
	URL    string
	Active bool
}

type reportCard struct {
	analytics.ReportView
	HamletName string
	Actions    []string // statuses a coordinator may move it to
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
	if status != "" && !schema.ReportStatus(status).Valid() {
		d.webError(w, r, c, server.BadParam("status", "unknown status"))
		return
	}
	if category != "" && !api.ValidCategory(category) {
		d.webError(w, r, c, server.BadParam("category", "unknown category"))
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
	if offset > len(list) {
		offset = len(list) / reportsPerPage * reportsPerPage
	}
	end := min(len(list), offset+reportsPerPage)
	v.From, v.To = offset+1, end
	if offset > 0 {
		v.PrevURL = pageURL("/reports", "unit", unit, "category", category, "status", status, "offset", itoa(max(0, offset-reportsPerPage)))
	}
	if end < len(list) {
		v.NextURL = pageURL("/reports", "unit", unit, "category", category, "status", status, "offset", itoa(end))
	}
	hamlets := map[string]string{}
	for _, rv := range list[offset:end] {
		card := reportCard{ReportView: rv}
		if _, ok := hamlets[rv.HamletCode]; !ok {
			hamlets[rv.HamletCode] = rv.HamletCode
		}
		if v.CanAct {
			for _, to := range []schema.ReportStatus{schema.StatusDispatched, schema.StatusInProgress, schema.StatusResolved, schema.StatusRedispatch, schema.StatusReturned} {
				if schema.CanTransition(schema.ReportStatus(rv.Status), to) {
					card.Actions = append(card.Actions, string(to))
				}
			}
		}
		v.Reports = append(v.Reports, card)
	}
	// Hamlet names of the page's reports: one query for all hamlets.
	if len(hamlets) > 0 {
		if hs, err := d.dir.Units(ctx, schema.LevelHamlet, ""); err == nil {
			for _, h := range hs {
				if _, ok := hamlets[h.Code]; ok {
					hamlets[h.Code] = h.Name + " · " + h.Code
				}
			}
		}
	}
	for i := range v.Reports {
		v.Reports[i].HamletName = hamlets[v.Reports[i].HamletCode]
	}
	v.Exports = exportLinks(c.Lang, []string{"reports"}, "unit", unit, "status", status, "category", category)
	p := d.page(c, "reports", "reports", v)
	if q.Get("done") == "1" {
		p.Notice = "done_transition"
	}
	d.render(w, r, http.StatusOK, "reports", p)
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
	back, err := url.Parse(safeNext(r.PostFormValue("back")))
	if err != nil || back.Path != "/reports" {
		back, _ = url.Parse("/reports")
	}
	bq := back.Query()
	bq.Set("done", "1")
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// ---- sync health ----

type deviceRow struct {
	server.DeviceStatus
	TeamName string
}

type syncView struct {
	Head          uint64
	Agents        int
	Devices       []deviceRow
	Conflicts     []server.ConflictEntry
	ConflictTotal int
	ConflictsOK   bool
}

func (d *Dashboard) handleWebSync(w http.ResponseWriter, r *http.Request, c *webCtx) {
	if !canSeeSync(c.User.Role) {
		d.webError(w, r, c, api.ErrForbiddenRole("see sync health (operators and provincial staff)"))
		return
	}
	ctx := r.Context()
	st, err := d.dir.SyncStatus(ctx)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	teams, err := d.dir.Teams(ctx)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	type teamInfo struct{ name, commune string }
	ti := map[string]teamInfo{}
	for _, t := range teams {
		ti[t.ID] = teamInfo{t.Name, t.CommuneCode}
	}
	v := &syncView{Head: st.Head, Agents: st.Agents}
	for _, d := range st.Devices {
		t := ti[d.TeamID]
		if !c.X.Within(t.commune, c.User.UnitCode) {
			continue
		}
		v.Devices = append(v.Devices, deviceRow{DeviceStatus: d, TeamName: t.name})
	}
	// Most behind first: they are the ones to call.
	slices.SortStableFunc(v.Devices, func(a, b deviceRow) int {
		if (a.Revoked == nil) != (b.Revoked == nil) {
			if a.Revoked == nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Lag, a.Lag)
	})
	v.Conflicts, v.ConflictTotal, err = d.dir.RecentConflicts(ctx, func(scope string) bool { return c.X.Within(scope, c.User.UnitCode) }, 50)
	v.ConflictsOK = err == nil
	if err != nil {
		d.log.Warn("sync page: conflicts unavailable", server.LogErr, err)
	}
	d.render(w, r, http.StatusOK, "sync", d.page(c, "sync", "sync", v))
}

package dashboard

import (
	"cmp"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The teams page (/teams, mirrors GET /api/v1/stats): per-team activity,
// tutoring by skill, the trend by week or month, field reports by category.

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
	v := &teamsView{St: st, Crumbs: path, Monthly: by == "month", Period: d.periodView(r, c.Lang, "/teams", st.Period, "unit", st.Unit, "by", by),
		Hidden: [][2]string{{"unit", st.Unit}}}
	if by != "" {
		v.Hidden = append(v.Hidden, [2]string{"by", by})
	}
	p := d.page(c, "teams", "teams", v)

	var sk []barItem
	most := 0.0
	for _, t := range st.TutoringBySkill {
		most = max(most, float64(t.Records))
		sk = append(sk, barItem{Label: p.Pick(t.NameVI, t.NameEN), Value: float64(t.Records), Text: p.Num(t.Records),
			Title: p.Pick(t.NameVI, t.NameEN) + ": " + p.Num(t.Records)})
	}
	v.Skills = hbarChart(p.T("tutoring_by_skill"), sk, most, "skill")
	var xl, xk []string
	series := []lineSeries{{Name: p.T("visits"), Class: "s1"}, {Name: p.T("tutoring"), Class: "s2"}, {Name: p.T("households_reached"), Class: "s3"}}
	for _, b := range st.Trend {
		d, _ := time.Parse(time.DateOnly, b.Start)
		// Vietnamese day/month; English as its other dates, year first.
		switch {
		case v.Monthly && p.Lang == "en":
			xl = append(xl, d.Format("2006-01"))
		case v.Monthly:
			xl = append(xl, d.Format("01/2006"))
		case p.Lang == "en":
			xl = append(xl, d.Format("01-02"))
		default:
			xl = append(xl, d.Format("02/01"))
		}
		xk = append(xk, b.Start)
		series[0].Values = append(series[0].Values, float64(b.Visits))
		series[1].Values = append(series[1].Values, float64(b.Tutoring))
		series[2].Values = append(series[2].Values, float64(b.HouseholdsReached))
	}
	title := p.T("trend")
	if v.Monthly {
		title = p.T("trend_month")
	}
	v.Trend = lineChart(title, xl, xk, series, c.Lang)

	q := r.URL.Query()
	sortKey, dir := q.Get("sort"), q.Get("dir")
	if dir != "asc" && dir != "desc" {
		dir = "desc"
		if sortKey == "" {
			sortKey = "reached"
		}
	}
	// By name (a team's, then its commune's) in Vietnamese order: the
	// order of "name" and every tie-break.
	teams := slices.Clone(st.PerTeam)
	i18n.SortByKeys(teams, func(t analytics.TeamRow) []string { return []string{t.Name, p.Name(t.Commune, t.CommuneCode), t.ID} })
	rank := map[string]int{}
	for i, t := range teams {
		rank[t.ID] = i
	}
	key := func(t analytics.TeamRow) func(b analytics.TeamRow) int {
		return func(b analytics.TeamRow) int {
			switch sortKey {
			case "name":
				return cmp.Compare(rank[t.ID], rank[b.ID])
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
			return cmp.Or(key(b)(a), cmp.Compare(rank[a.ID], rank[b.ID]))
		}
		return cmp.Or(key(a)(b), cmp.Compare(rank[a.ID], rank[b.ID]))
	})
	for _, t := range teams {
		v.Teams = append(v.Teams, teamRow{TeamRow: t, CommuneName: p.Name(t.Commune, t.CommuneCode)})
	}
	v.Heads = sortLinks("/teams", sortKey, dir, []sortHead{{Label: p.T("team")}, {Label: p.T("commune")}, {Label: p.T("members"), Num: true, Wrap: true},
		{Label: p.T("active_short"), Num: true, Wrap: true}, {Label: p.T("households_reached"), Num: true, Wrap: true}, {Label: p.T("visits"), Num: true, Wrap: true},
		{Label: p.T("tutoring"), Num: true, Wrap: true}}, []string{"name", "commune", "members", "active", "reached", "visits", "tutoring"},
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

package dashboard

import (
	"cmp"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The coverage page (/coverage, mirrors GET /api/v1/coverage): the share of
// households reached in a unit and in each unit below it, sortable, with
// the skill coverage and its charts.

type covRow struct {
	analytics.CoverageRow
	Link        string
	DisplayName string // the name lists show ("Khóm 1 (Phường 4 cũ)")
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
		Period: d.periodView(r, c.Lang, "/coverage", cov.Period, "unit", cov.Unit.Code, "level", level),
		Hidden: [][2]string{{"unit", cov.Unit.Code}}}
	if level != "" {
		v.Hidden = append(v.Hidden, [2]string{"level", level})
	}
	p := d.page(c, "coverage", "coverage", v)

	// Sort the rows as asked: ?sort=name|households|reached|coverage|skill:<code>;
	// by default by name, in Vietnamese order, as a person looks a unit up.
	q := r.URL.Query()
	sortKey, dir := q.Get("sort"), q.Get("dir")
	if dir != "asc" && dir != "desc" {
		dir = "asc"
	}
	rows := slices.Clone(cov.Children)
	i18n.SortByKeys(rows, func(r analytics.CoverageRow) []string { return []string{p.Name(r.Display, r.Name), r.Code} })
	rank := map[string]int{} // a row's place by name: the tie-break of every order
	for i, r := range rows {
		rank[r.Code] = i
	}
	skillIx := -1
	if code, ok := strings.CutPrefix(sortKey, "skill:"); ok && len(cov.Unit.Skills) > 0 {
		skillIx = slices.IndexFunc(cov.Unit.Skills, func(sc analytics.SkillCount) bool { return sc.Skill == code })
	}
	less := func(a, b analytics.CoverageRow) int {
		switch {
		case sortKey == "name":
			return cmp.Compare(rank[a.Code], rank[b.Code])
		case sortKey == "households":
			return cmp.Compare(a.Households, b.Households)
		case sortKey == "reached":
			return cmp.Compare(a.Reached, b.Reached)
		case sortKey == "coverage":
			return cmp.Compare(a.Coverage, b.Coverage)
		case skillIx >= 0 && skillIx < len(a.Skills) && skillIx < len(b.Skills):
			return cmp.Compare(a.Skills[skillIx].Share, b.Skills[skillIx].Share)
		}
		return cmp.Compare(rank[a.Code], rank[b.Code])
	}
	slices.SortStableFunc(rows, func(a, b analytics.CoverageRow) int {
		if dir == "desc" {
			return cmp.Or(less(b, a), cmp.Compare(rank[a.Code], rank[b.Code]))
		}
		return cmp.Or(less(a, b), cmp.Compare(rank[a.Code], rank[b.Code]))
	})
	heads := []sortHead{{Label: p.T("unit")}, {Label: p.T("coverage_pct"), Num: true, Wrap: true}, {Label: p.T("households"), Num: true, Wrap: true},
		{Label: p.T("reached"), Num: true, Wrap: true}}
	keys := []string{"name", "coverage", "households", "reached"}
	// Skills by their official names in full: the table wraps its headings
	// or scrolls, never cuts them.
	for _, sc := range cov.Unit.Skills {
		heads = append(heads, sortHead{Label: p.Pick(sc.NameVI, sc.NameEN), Num: true, Wrap: true})
		keys = append(keys, "skill:"+sc.Skill)
	}
	v.Heads = sortLinks("/coverage", sortKey, dir, heads, keys, "unit", cov.Unit.Code, "from", from, "to", to, "level", level)

	var bars []barItem
	for _, row := range rows {
		link := pageURL("/coverage", "unit", row.Code, "from", from, "to", to)
		name := p.Name(row.Display, row.Name)
		v.Rows = append(v.Rows, covRow{CoverageRow: row, Link: link, DisplayName: name})
		bar := barItem{Label: name, Value: row.Coverage, Text: p.Pct(row.Coverage), Link: link,
			Title: name + ": " + p.Pct(row.Coverage) + " (" + p.Num(row.Reached) + "/" + p.Num(row.Households) + ")"}
		if row.Households == 0 { // no list of households yet: no share to show, 0% would say none was reached
			bar.Value, bar.Text, bar.Title = 0, "–", name+": "+p.T("no_households")
		}
		bars = append(bars, bar)
	}
	v.Chart = hbarChart(p.T("chart_coverage"), bars, 1, "cov")
	var sk []barItem
	for _, sc := range cov.Unit.Skills {
		bar := barItem{Label: p.Pick(sc.NameVI, sc.NameEN), Value: sc.Share, Text: p.Pct(sc.Share),
			Title: p.Pick(sc.NameVI, sc.NameEN) + ": " + p.Pct(sc.Share) + " (" + p.Num(sc.Households) + ")"}
		if cov.Unit.Households == 0 {
			bar.Value, bar.Text, bar.Title = 0, "–", bar.Label+": "+p.T("no_households")
		}
		sk = append(sk, bar)
	}
	v.Skills = hbarChart(p.T("chart_skills"), sk, 1, "skill")
	v.Exports = exportLinks(c.Lang, []string{"coverage"}, keep...)
	d.render(w, r, http.StatusOK, "coverage", p)
}

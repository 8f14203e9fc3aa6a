package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// The dashboard's pages. Each reads the same query parameters as the API
// endpoint it mirrors (unit, from, to, level, status, category), through
// the same functions (api.Query), so a page and the API can never disagree
// on what a user may see: a unit outside the user's is a 403 here as there.

// periodView is the period picker, and what it says is shown.
type periodView struct {
	// From and To are the days in the text inputs, as people write them
	// (dd/mm/yyyy; English yyyy-mm-dd): a date input shows the browser's
	// locale instead, mm/dd/yyyy in most (issue 21, item 17).
	From, To string
	// FromQ and ToQ are the same days in links (2026-11-01).
	FromQ, ToQ string
	// Shown says which period the figures are of, and Latest whether it is
	// the default: the month of the unit's latest figures (api.Query).
	Shown   string
	Latest  bool
	Presets []presetLink
}

type presetLink struct {
	Key    string
	URL    string
	Active bool
}

func (d *Dashboard) periodView(r *http.Request, lang, path string, p analytics.Period, keep ...string) periodView {
	now := d.core.Now().In(vnZone)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	q := r.URL.Query()
	v := periodView{From: i18n.Date(p.From, lang), To: i18n.Date(p.To, lang),
		FromQ: p.From.Format(time.DateOnly), ToQ: p.To.Format(time.DateOnly), Latest: q.Get("from") == "" && q.Get("to") == ""}
	if p.From.Day() == 1 && p.To.Equal(p.From.AddDate(0, 1, -1)) {
		month := p.From.Format("01/2006")
		if lang == "en" {
			month = p.From.Format("January 2006")
		}
		v.Shown = fmt.Sprintf(webT(lang, "shown_month"), month)
	} else {
		v.Shown = fmt.Sprintf(webT(lang, "shown_range"), i18n.Date(p.From, lang), i18n.Date(p.To, lang))
	}
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

type sortHead struct {
	Label, Title, URL, Arrow string
	Num                      bool
	Wrap                     bool // a long heading (a skill's full name) wraps
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

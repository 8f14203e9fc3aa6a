package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

func (a *App) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /static/{name}", a.serveStatic)
	m.HandleFunc("GET /{$}", a.enrolled(a.home))
	m.HandleFunc("GET /enroll", a.enrollPage)
	m.HandleFunc("POST /enroll", a.enrollPost)
	m.HandleFunc("GET /households", a.enrolled(a.households))
	m.HandleFunc("GET /households/new", a.enrolled(a.householdNew))
	m.HandleFunc("POST /households/new", a.enrolled(a.householdCreate))
	m.HandleFunc("GET /households/{id}", a.enrolled(a.household))
	m.HandleFunc("GET /households/{id}/edit", a.enrolled(a.householdEdit))
	m.HandleFunc("POST /households/{id}/edit", a.enrolled(a.householdUpdate))
	m.HandleFunc("GET /households/{id}/visit", a.enrolled(a.visitNew))
	m.HandleFunc("POST /households/{id}/visit", a.enrolled(a.visitCreate))
	m.HandleFunc("GET /reports", a.enrolled(a.reports))
	m.HandleFunc("GET /reports/new", a.enrolled(a.reportNew))
	m.HandleFunc("POST /reports/new", a.enrolled(a.reportCreate))
	m.HandleFunc("GET /reports/{id}", a.enrolled(a.reportPage))           // pages_photos.go
	m.HandleFunc("POST /reports/{id}/photos", a.enrolled(a.reportAttach)) // pages_photos.go
	m.HandleFunc("GET /photos/{digest}", a.enrolled(a.photoFull))         // pages_photos.go
	m.HandleFunc("GET /photos/{digest}/thumb", a.enrolled(a.photoThumb))  // pages_photos.go
	m.HandleFunc("GET /sync", a.syncPage)
	m.HandleFunc("POST /sync", a.syncNowPost)
	m.HandleFunc("POST /sync/notices", a.noticesRead)
	m.HandleFunc("GET /sync/status", a.syncStatus)
	m.HandleFunc("POST /sync/rejected/{id}/fix", a.rejectedFix)
	m.HandleFunc("POST /sync/rejected/{id}/discard", a.rejectedDiscard)
	m.HandleFunc("POST /sync/conflicts/{id}/restore", a.conflictRestore)
	m.HandleFunc("POST /lang", a.setLang)
	m.HandleFunc("/", a.notFound)
	a.mux = m
}

// enrolled sends a laptop that is not enrolled yet to the first-run page:
// nothing else can be done before it.
func (a *App) enrolled(h func(http.ResponseWriter, *http.Request, *agent.Enrollment)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		en, err := a.r.Enrollment(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if en == nil {
			http.Redirect(w, r, "/enroll", http.StatusSeeOther)
			return
		}
		h(w, r, en)
	}
}

// hamletCoverage is one hamlet's line on the home page.
type hamletCoverage struct {
	Code, Name          string
	Households, Reached int
	Share               float64
}

type homeData struct {
	Name, Team string
	Month      string
	Hamlets    []hamletCoverage
	Total      hamletCoverage
	// The work list.
	List, Skill, Hamlet string
	Skills              []schema.Skill
	Scope               []agent.Hamlet
	Rows                []hhRow
	Count               int
	Page, Pages         int
	Base                string
}

// home is the volunteer's start: this month's coverage of each hamlet,
// computed on the laptop, and the work list: active households not yet
// reached this month, or not yet taught a chosen skill.
func (a *App) home(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	ctx := r.Context()
	lang := a.langOf(r)
	snap, err := a.idx.get(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := a.r.Now()
	from, to := monthStart(now), a.r.Today()
	codes := make([]string, len(en.Scope))
	for i, h := range en.Scope {
		codes[i] = h.Code
	}
	inScope := map[string]bool{}
	for _, c := range codes {
		inScope[c] = true
	}
	reached, err := a.idx.set(ctx, snap, "reached:"+from+":"+to+":"+strings.Join(codes, ","), []string{"visits", "tutoring_records"},
		func(ctx context.Context) (map[string]bool, error) { return a.r.HouseholdsReached(ctx, codes, from, to) },
		func(_ string, x agent.Activity) bool { return inScope[x.Hamlet] && x.Date >= from && x.Date <= to })
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := &homeData{Team: en.TeamName, Month: monthText(now, lang), Scope: en.Scope, Skills: schema.Skills(), Page: pageOf(r)}
	if ws, err := a.r.Writers(ctx); err == nil {
		for _, w := range ws {
			if w.Member == en.MemberID && w.Name != "" {
				d.Name = w.Name
			}
		}
	}
	by := map[string]*hamletCoverage{}
	for _, h := range en.Scope {
		d.Hamlets = append(d.Hamlets, hamletCoverage{Code: h.Code, Name: h.Name})
	}
	for i := range d.Hamlets {
		by[d.Hamlets[i].Code] = &d.Hamlets[i]
	}
	for _, e := range snap.all {
		c := by[e.Hamlet]
		if c == nil || !e.Active {
			continue
		}
		c.Households++
		if reached[e.ID] {
			c.Reached++
		}
	}
	for i := range d.Hamlets {
		c := &d.Hamlets[i]
		c.Share = share(c.Reached, c.Households)
		d.Total.Households += c.Households
		d.Total.Reached += c.Reached
	}
	d.Total.Share = share(d.Total.Reached, d.Total.Households)

	q := r.URL.Query()
	d.List, d.Skill, d.Hamlet = q.Get("list"), q.Get("skill"), q.Get("hamlet")
	if _, ok := schema.SkillByCode(d.Skill); !ok {
		d.Skill = d.Skills[0].Code
	}
	qu := query{hamlet: d.Hamlet}
	if d.List == "skill" {
		skill := d.Skill
		taught, err := a.idx.set(ctx, snap, "taught:"+skill, []string{"tutoring_records"},
			func(ctx context.Context) (map[string]bool, error) { return a.r.HouseholdsTaught(ctx, skill) },
			func(_ string, x agent.Activity) bool { return x.Skill == skill })
		if err != nil {
			a.fail(w, r, err)
			return
		}
		qu.keep = func(e *entry) bool { return e.Active && !taught[e.ID] }
	} else {
		d.List = "visit"
		qu.keep = func(e *entry) bool { return e.Active && !reached[e.ID] }
	}
	found, total := snap.find(qu, (d.Page-1)*pageSize, pageSize)
	d.Rows, d.Count, d.Pages = a.rows(found, hamletNames(en)), total, pageCount(total)
	d.Base = withQuery("/", "list", d.List, "skill", d.Skill, "hamlet", d.Hamlet)
	a.render(w, r, http.StatusOK, "home", &view{Page: "home", Data: d, Notice: doneNotice(r, lang)})
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// monthText names a month: "tháng 11/2026", "November 2026".
func monthText(t time.Time, lang string) string {
	t = t.In(i18n.Zone)
	if i18n.IsEN(lang) {
		return t.Format("January 2006")
	}
	return t.Format("01/2006")
}

// problem is a page that says what went wrong and what to do.
type problem struct {
	Text string
	Back string
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := a.langOf(r)
	err = a.r.Classify(err) // another command holding the replica is told as such
	a.log.Warn("page failed", "path", r.URL.Path, "err", err)
	status := http.StatusInternalServerError
	if agent.IsStoreError(err) || agent.NeedsPerson(err) {
		status = http.StatusServiceUnavailable
	}
	a.render(w, r, status, "problem", &view{Title: tr(lang, "title_problem"), Data: &problem{Text: agent.AppMessageOf(err, lang), Back: "/"}})
}

func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	lang := a.langOf(r)
	a.render(w, r, http.StatusNotFound, "problem", &view{Title: tr(lang, "title_notfound"), Data: &problem{Text: tr(lang, "not_found"), Back: "/"}})
}

// setLang is the language toggle: it is kept in a cookie, and the page
// comes back in the other language.
func (a *App) setLang(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Lang(r.PostForm.Get("to"))
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: 400 * 24 * 3600})
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

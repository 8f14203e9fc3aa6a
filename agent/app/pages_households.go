package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

const pageSize = 50

// hhRow is a household in a list.
type hhRow struct {
	ID, Head, Hamlet, HamletName, Address, Phone string
	Active                                       bool
}

type listData struct {
	Q, Hamlet string
	Hamlets   []agent.Hamlet
	Rows      []hhRow
	Total     int
	Page      int
	Pages     int
	Base      string // the list's address with its filters, for the pager
}

func (a *App) rows(es []*entry, names map[string]string) []hhRow {
	out := make([]hhRow, len(es))
	for i, e := range es {
		out[i] = hhRow{ID: e.ID, Head: e.Head, Hamlet: e.Hamlet, HamletName: names[e.Hamlet], Address: e.Address, Phone: e.Phone, Active: e.Active}
	}
	return out
}

func hamletNames(en *agent.Enrollment) map[string]string {
	m := map[string]string{}
	if en == nil {
		return m
	}
	// A record of a hamlet the team no longer covers (kept for an edit
	// refused or pending there) is shown with its name too.
	for _, h := range en.Former {
		m[h.Code] = h.Name
	}
	for _, h := range en.Scope {
		m[h.Code] = h.Name
		if h.Name == "" {
			m[h.Code] = h.Code
		}
	}
	return m
}

// maxPage bounds a page number from the address: (page-1)*pageSize must
// not overflow (a page past the end lists nothing).
const maxPage = 1 << 20

func pageOf(r *http.Request) int {
	p, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || p < 1 {
		return 1
	}
	return min(p, maxPage)
}

func pageCount(total int) int {
	if total == 0 {
		return 1
	}
	return (total + pageSize - 1) / pageSize
}

// households lists and searches the households: ?q= ignores case and
// diacritics ("nguyen" finds Nguyễn, "d" finds Đ), &hamlet= keeps one
// hamlet, in Vietnamese order. With fragment=1 it answers the results
// alone, for app.js to swap in as the volunteer types.
func (a *App) households(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	ctx := r.Context()
	snap, err := a.idx.get(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := &listData{Q: q.Get("q"), Hamlet: q.Get("hamlet"), Hamlets: en.Scope, Page: pageOf(r)}
	qu := newQuery(d.Q, en.Scope)
	qu.hamlet = d.Hamlet
	found, total := snap.find(qu, (d.Page-1)*pageSize, pageSize)
	d.Rows, d.Total, d.Pages = a.rows(found, hamletNames(en)), total, pageCount(total)
	d.Base = withQuery("/households", "q", d.Q, "hamlet", d.Hamlet)
	v := &view{Page: "households", Data: d}
	if q.Get("fragment") == "1" {
		a.fragment(w, r, "households", "results", v)
		return
	}
	a.render(w, r, http.StatusOK, "households", v)
}

// hhForm is the data of the add and edit forms.
type hhForm struct {
	ID      string // "" for a new household
	Head    string
	Hamlets []agent.Hamlet
	Flags   []string      // the yes/no fields, in the schema's order
	Shown   []hiddenField // the edit form: what it showed (formOf)
	// Same: the household like this one already here, when the save was
	// refused for it (agent.UnlessSame); the form then saves on the next
	// press.
	Same *agent.SameHouseholdError
}

// householdFields are the fields the form has, in its order.
var hhText = []string{"head_name", "address", "phone", "notes"}

func (a *App) hhFlags() []string {
	tb, _ := a.r.Schema().Table("households")
	var out []string
	for _, f := range tb.Fields {
		if f.Type == schema.TypeBool && f.Name != "active" {
			out = append(out, f.Name)
		}
	}
	return out
}

func (a *App) householdNew(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	form := url.Values{"active": {"on"}, "registered_on": {inputDate(a.r.Today())}, saveKey: {uuid.NewString()}}
	if h := r.URL.Query().Get("hamlet"); h != "" {
		form.Set("hamlet_code", h)
	} else if len(en.Scope) == 1 {
		form.Set("hamlet_code", en.Scope[0].Code)
	}
	a.render(w, r, http.StatusOK, "household_form", &view{Page: "households", Form: form, Data: &hhForm{Hamlets: en.Scope, Flags: a.hhFlags()}})
}

// hhFormFields are the fields of the household form.
func (a *App) hhFormFields() []string {
	return slices.Concat([]string{"hamlet_code"}, hhText, []string{"members_count", "registered_on", "active"}, a.hhFlags())
}

// readHousehold checks the household form: every field, every problem
// next to its field.
func (a *App) readHousehold(r *http.Request, en *agent.Enrollment, create bool) *checker {
	c := a.checker(a.langOf(r), "households", r.PostForm, create)
	c.hamlet("hamlet_code", en)
	for _, f := range hhText {
		c.text(f)
	}
	c.integer("members_count")
	for _, f := range a.hhFlags() {
		c.flag(f)
	}
	c.flag("active")
	c.date("registered_on")
	return c
}

func (a *App) householdCreate(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	c := a.readHousehold(r, en, true)
	status, problem := http.StatusUnprocessableEntity, ""
	var same *agent.SameHouseholdError
	if c.ok() {
		fs := agent.Fields{}
		for k, v := range c.vals {
			if v != nil && v != false {
				fs[k] = v
			}
		}
		fs["active"] = c.vals["active"]
		// again: the volunteer said this is another household than the one
		// the form pointed at; changed since, it is checked again.
		opts := append(savedOnce(r), agent.UnlessSame(), agent.SameConfirmed(r.PostForm.Get("again")))
		id, err := a.r.AddHousehold(r.Context(), fs, opts...)
		if err == nil {
			http.Redirect(w, r, "/households/"+id.String()+"?done=saved", http.StatusSeeOther)
			return
		}
		if errors.As(err, &same) {
			status = http.StatusConflict
		} else if !c.agentErr(err) {
			status, problem = a.saveProblem(r, err)
		}
	}
	a.render(w, r, status, "household_form", &view{Page: "households", Form: r.PostForm, Errors: c.errs, Order: c.order, Problem: problem,
		Data: &hhForm{Hamlets: en.Scope, Flags: a.hhFlags(), Same: same}})
}

// agentErr puts what the agent refused next to its field; false when the
// error is not about a field (a damaged file, a full disk).
func (c *checker) agentErr(err error) bool {
	var ve *schema.ValidationError
	var se *agent.ScopeError
	switch {
	case errors.As(err, &ve) && ve.Field != "":
		c.fail(ve.Field, agent.AppMessageOf(err, c.lang))
	case errors.As(err, &se):
		c.fail(schema.ScopeField, agent.AppMessageOf(err, c.lang))
	default:
		return false
	}
	return true
}

// saveProblem says why a save failed for a reason that is no one field's
// (another Hamlet command holding the replica past its wait, the household
// deleted meanwhile by a command, a damaged file, a full disk), and the
// status to answer. The form is shown again with all that was typed: a
// refused save loses nothing, whatever refused it.
func (a *App) saveProblem(r *http.Request, err error) (int, string) {
	err = a.r.Classify(err)
	a.log.Warn("save refused", "path", r.URL.Path, "err", err)
	lang := a.langOf(r)
	var nf *agent.NotFoundError
	var de *agent.DeletedError
	switch {
	case errors.As(err, &nf) || errors.As(err, &de):
		return http.StatusConflict, tr(lang, "err_save_gone")
	case agent.IsStoreError(err) || agent.NeedsPerson(err): // a busy replica too (BusyError wraps SQLite's)
		return http.StatusServiceUnavailable, agent.AppMessageOf(err, lang)
	}
	return http.StatusInternalServerError, agent.AppMessageOf(err, lang)
}

// saveKey is the form field holding a key minted when a new record's form
// is shown. The record is saved under an id made from that key and what
// the form says (agent.WithID): the same form arriving twice (a double
// click, sent again from the browser's history) adds one record, while a
// form changed after going back, or a key carried to another household's
// form, makes another id and is saved as the record it is.
const saveKey = "rid"

// savedOnce is the id option of a new record's save; extra is what the
// form sends besides its fields (the digests of its photos).
func savedOnce(r *http.Request, extra ...string) []agent.AddOption {
	key, err := uuid.Parse(r.PostForm.Get(saveKey))
	if err != nil || key == uuid.Nil {
		return nil // a form without one (shown before this was kept): saved as before
	}
	names := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if k != "csrf" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	write := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	write(r.URL.RequestURI()) // the household a visit (its path) or a report (its query) is of
	for _, k := range names {
		write(k)
		for _, v := range r.PostForm[k] {
			write(v)
		}
	}
	for _, x := range extra {
		write(x)
	}
	return []agent.AddOption{agent.WithID(uuid.NewSHA1(key, h.Sum(nil)))}
}

// loadHousehold finds the household of the address, or answers 404.
func (a *App) loadHousehold(w http.ResponseWriter, r *http.Request) (*agent.Detail, bool) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		a.notFound(w, r)
		return nil, false
	}
	d, err := a.r.Show(r.Context(), "households", id)
	var nf *agent.NotFoundError
	if errors.As(err, &nf) || err == nil && d.Table != "households" {
		a.notFound(w, r)
		return nil, false
	}
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return d, true
}

// formOf fills the edit form with a household's current values.
func (a *App) formOf(d *agent.Detail) url.Values {
	form := url.Values{"hamlet_code": {d.Hamlet}}
	for _, f := range hhText {
		form.Set(f, d.Str(f))
	}
	if n, ok := d.Fields["members_count"].(int64); ok {
		form.Set("members_count", strconv.FormatInt(n, 10))
	}
	for _, f := range append(a.hhFlags(), "active") {
		if b, _ := d.Fields[f].(bool); b || (f == "active" && d.Fields[f] == nil) {
			form.Set(f, "on")
		}
	}
	form.Set("registered_on", inputDate(d.Str("registered_on")))
	// What the form showed goes back with it, empty fields and unticked
	// boxes too: a field the volunteer left as it was is not written, even
	// if another command or a pull changed it while the form was open
	// (householdUpdate).
	for _, k := range a.hhFormFields() {
		form.Set(shownPrefix+k, form.Get(k))
	}
	return form
}

// shownPrefix names the hidden copy of what an edit form showed in a field.
const shownPrefix = "shown_"

// shown is the edit form's hidden copies of what it showed.
func shown(form url.Values) []hiddenField {
	var out []hiddenField
	for k, vs := range form {
		if strings.HasPrefix(k, shownPrefix) && len(vs) > 0 {
			out = append(out, hiddenField{Name: k, Value: vs[0]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type hiddenField struct{ Name, Value string }

// untouched: the volunteer left field as the form showed it (line ends as
// browsers send them: CRLF). false when the form holds no copy of it.
func untouched(form url.Values, field string) bool {
	was, ok := form[shownPrefix+field]
	if !ok || len(was) == 0 {
		return false
	}
	return lineEnds.Replace(form.Get(field)) == lineEnds.Replace(was[0])
}

func (a *App) householdEdit(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.loadHousehold(w, r)
	if !ok {
		return
	}
	form := a.formOf(d)
	a.render(w, r, http.StatusOK, "household_form", &view{Page: "households", Form: form,
		Data: &hhForm{ID: d.ID, Head: d.Str("head_name"), Hamlets: en.Scope, Flags: a.hhFlags(), Shown: shown(form)}})
}

func (a *App) householdUpdate(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.loadHousehold(w, r)
	if !ok {
		return
	}
	c := a.readHousehold(r, en, false)
	status, problem := http.StatusUnprocessableEntity, ""
	if c.ok() {
		// Only what the volunteer changed is written: an untouched field
		// makes no change to sync (and no conflict with a teammate's edit),
		// and does not put back, over a value another command or a pull
		// wrote while the form was open, the value the form showed.
		fs := agent.Fields{}
		for k, v := range c.vals {
			cur := d.Fields[k]
			if untouched(r.PostForm, k) || same(cur, v) || cur == nil && v == false && k != "active" {
				continue
			}
			fs[k] = v
		}
		id, _ := uuid.Parse(d.ID)
		err := a.r.EditHousehold(r.Context(), id, fs)
		if err == nil {
			http.Redirect(w, r, "/households/"+d.ID+"?done=saved", http.StatusSeeOther)
			return
		}
		if !c.agentErr(err) {
			status, problem = a.saveProblem(r, err)
		}
	}
	a.render(w, r, status, "household_form", &view{Page: "households", Form: r.PostForm, Errors: c.errs, Order: c.order, Problem: problem,
		Data: &hhForm{ID: d.ID, Head: d.Str("head_name"), Hamlets: en.Scope, Flags: a.hhFlags(), Shown: shown(r.PostForm)}})
}

func same(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a == b
}

// fieldView is one field of a household's page with its history.
type fieldView struct {
	Name     string
	Label    string
	Value    string
	Pending  bool          // the value now is this laptop's, not yet sent
	Versions []versionView // oldest first; shown when there is more than one
}

type versionView struct {
	Value   string
	Who     string
	When    string
	Current bool
	Lost    bool
	Pending bool
}

type recView struct {
	ID     string
	Date   string
	Who    string
	What   string
	Detail string
	Status string
	Final  bool
}

type hhPage struct {
	ID, Head, HamletName string
	Deleted              bool
	Fields               []fieldView
	Visits               []recView
	Tutoring             []recView
	Reports              []recView
}

// household is a household's page: its fields with who changed what and
// when (by name), its visits, tutoring and reports.
func (a *App) household(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.loadHousehold(w, r)
	if !ok {
		return
	}
	lang := a.langOf(r)
	names := a.names(r, en, lang)
	p := &hhPage{ID: d.ID, Head: d.Str("head_name"), HamletName: hamletNames(en)[d.Hamlet], Deleted: d.Deleted}
	if p.HamletName == "" {
		p.HamletName = d.Hamlet
	}
	hist := map[string][]agent.VersionInfo{}
	for _, h := range d.History {
		hist[h.Field] = h.Versions
	}
	tb, _ := a.r.Schema().Table("households")
	for _, f := range tb.Fields {
		fv := fieldView{Name: f.Name, Label: fieldLabel(f.Name, lang), Value: valueText("households", f.Name, d.Fields[f.Name], lang)}
		if f.Name == schema.ScopeField {
			fv.Value = hamletText(d.Hamlet, hamletNames(en))
		}
		for _, v := range hist[f.Name] {
			val := valueText("households", f.Name, v.Value, lang)
			if f.Name == schema.ScopeField {
				val = hamletText(str(v.Value), hamletNames(en))
			}
			fv.Versions = append(fv.Versions, versionView{Value: val, Who: names.of(v.Origin, v.Mine), When: i18n.DateTime(v.At, lang),
				Current: v.Current, Lost: v.Lost, Pending: v.Pending})
			fv.Pending = fv.Pending || v.Current && v.Pending
		}
		if len(fv.Versions) == 0 && fv.Value == "" {
			continue // never set: nothing to show
		}
		p.Fields = append(p.Fields, fv)
	}
	for _, v := range d.Visits {
		p.Visits = append(p.Visits, recView{ID: v.ID, Date: showDate(v.Str("visited_on"), lang), Who: names.member(v.Str("volunteer_id")), Detail: v.Str("notes")})
	}
	for _, t := range d.Tutoring {
		p.Tutoring = append(p.Tutoring, recView{ID: t.ID, Date: showDate(t.Str("taught_on"), lang), Who: names.member(t.Str("volunteer_id")),
			What: schema.EnumLabel(schema.EnumSkill, t.Str("skill"), lang), Status: schema.EnumLabel(schema.EnumTutoringOutcome, t.Str("outcome"), lang),
			Detail: t.Str("person_name")})
	}
	for _, rep := range d.Reports {
		p.Reports = append(p.Reports, a.reportView(rep, lang, names))
	}
	v := &view{Page: "households", Title: p.Head, Data: p}
	v.Notice = doneNotice(r, lang)
	a.render(w, r, http.StatusOK, "household", v)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func hamletText(code string, names map[string]string) string {
	if n := names[code]; n != "" && n != code {
		return n + " (" + code + ")"
	}
	return code
}

// valueText is a value as people read it: labels, có/không, dates
// dd/mm/yyyy, times in Vietnam's zone.
func valueText(table, field string, v any, lang string) string {
	if v == nil {
		return ""
	}
	if field == schema.DeletedField {
		if b, _ := v.(bool); b {
			return tr(lang, "value_deleted")
		}
		return tr(lang, "value_kept")
	}
	if t, ok := schema.LookupTable(table); ok {
		if f, ok := t.Field(field); ok && f.Type == schema.TypeTime {
			if ms, ok := v.(int64); ok {
				return i18n.DateTime(time.UnixMilli(ms), lang)
			}
		}
	}
	return schema.ValueLabel(table, field, v, lang)
}

// doneNotice is the line a page shows after a save redirected to it.
func doneNotice(r *http.Request, lang string) string {
	switch r.URL.Query().Get("done") {
	case "saved":
		return tr(lang, "done_saved")
	case "visit":
		return tr(lang, "done_visit")
	case "report":
		return tr(lang, "done_report")
	case "enrolled":
		return tr(lang, "done_enrolled")
	}
	return ""
}

// people names who wrote what: the team's roster, "you" for this laptop.
type people struct {
	lang     string
	byOrigin map[string]string
	byMember map[string]string
	me       string          // the enrolled member
	server   map[string]bool // the server's writers (agent.Replica.ServerWriters)
}

func (a *App) names(r *http.Request, en *agent.Enrollment, lang string) *people {
	p := &people{lang: lang, byOrigin: map[string]string{}, byMember: map[string]string{}}
	if ws, err := a.r.Writers(r.Context()); err == nil {
		for id, w := range ws {
			p.byOrigin[id] = w.Name
			if w.Member != "" {
				p.byMember[w.Member] = w.Name
			}
		}
	}
	if en != nil {
		p.me, p.server = en.MemberID, a.r.ServerWriters(r.Context())
	}
	return p
}

// of names the writer of a change from replica origin.
func (p *people) of(origin string, mine bool) string {
	switch {
	case mine:
		return tr(p.lang, "who_me")
	case p.byOrigin[origin] != "":
		return p.byOrigin[origin]
	case origin != "" && p.server[origin]:
		return tr(p.lang, "who_coordinator")
	}
	return trf(p.lang, "who_other", shortID(origin))
}

// member names a team member by id.
func (p *people) member(id string) string {
	switch {
	case id == "":
		return ""
	case id == p.me:
		return tr(p.lang, "who_me")
	case p.byMember[id] != "":
		return p.byMember[id]
	}
	return trf(p.lang, "who_member", shortID(id))
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// skillRow is one skill of the visit form.
type skillRow struct {
	Code, Name string
}

type visitForm struct {
	ID, Head, HamletName string
	Skills               []skillRow
	Outcomes             []string
}

func (a *App) visitData(d *agent.Detail, en *agent.Enrollment, lang string) *visitForm {
	vf := &visitForm{ID: d.ID, Head: d.Str("head_name"), HamletName: hamletText(d.Hamlet, hamletNames(en)),
		Outcomes: schema.EnumValues(schema.EnumTutoringOutcome)}
	for _, s := range schema.Skills() {
		vf.Skills = append(vf.Skills, skillRow{Code: s.Code, Name: schema.EnumLabel(schema.EnumSkill, s.Code, lang)})
	}
	return vf
}

func (a *App) visitNew(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.loadHousehold(w, r)
	if !ok {
		return
	}
	form := url.Values{"visited_on": {inputDate(a.r.Today())}, saveKey: {uuid.NewString()}}
	a.render(w, r, http.StatusOK, "visit_form", &view{Page: "households", Form: form, Data: a.visitData(d, en, a.langOf(r))})
}

// visitCreate records the visit and the skills ticked, each with its
// outcome, in one transaction.
func (a *App) visitCreate(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.loadHousehold(w, r)
	if !ok {
		return
	}
	lang := a.langOf(r)
	c := a.checker(lang, "visits", r.PostForm, true)
	c.date("visited_on")
	c.text("notes")
	tc := a.checker(lang, "tutoring_records", r.PostForm, true)
	tc.text("person_name")
	var tutoring []agent.Fields
	ticked := r.PostForm["skill"]
	sort.Strings(ticked)
	for _, code := range ticked {
		if _, ok := schema.SkillByCode(code); !ok {
			c.fail("skills", (&schema.ValidationError{Table: "tutoring_records", Field: "skill", Code: schema.CodeUnknownEnum}).Message(lang))
			continue
		}
		out := r.PostForm.Get("outcome-" + code)
		if out == "" {
			c.fail("outcome-"+code, trf(lang, "err_outcome", schema.EnumLabel(schema.EnumSkill, code, lang)))
			continue
		}
		if _, err := tc.tb.NormalizeValue("outcome", out); err != nil {
			c.fail("outcome-"+code, agent.AppMessageOf(err, lang))
			continue
		}
		t := agent.Fields{"skill": code, "outcome": out}
		if pn := tc.vals["person_name"]; pn != nil {
			t["person_name"] = pn
		}
		tutoring = append(tutoring, t)
	}
	for _, k := range tc.order {
		c.fail(k, tc.errs[k])
	}
	status, problem := http.StatusUnprocessableEntity, ""
	if c.ok() {
		id, _ := uuid.Parse(d.ID)
		visit := agent.Fields{"visited_on": c.vals["visited_on"]}
		if n := c.vals["notes"]; n != nil {
			visit["notes"] = n
		}
		_, _, err := a.r.AddVisitWithTutoring(r.Context(), id, visit, tutoring, savedOnce(r)...)
		if err == nil {
			http.Redirect(w, r, "/households/"+d.ID+"?done=visit", http.StatusSeeOther)
			return
		}
		if !c.agentErr(err) {
			status, problem = a.saveProblem(r, err)
		}
	}
	a.render(w, r, status, "visit_form", &view{Page: "households", Form: r.PostForm, Errors: c.errs, Order: c.order, Problem: problem, Data: a.visitData(d, en, lang)})
}

// byID is for the pages that name a household from its id.
func (s *snapshot) head(id string) string {
	if e := s.byID[strings.ToLower(id)]; e != nil {
		return e.Head
	}
	return ""
}

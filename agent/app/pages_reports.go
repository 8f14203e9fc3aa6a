package app

import (
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

// reportRow is a field report as the volunteer follows it: what was
// reported, and where it is in the workflow as the server sends it back.
type reportRow struct {
	ID          string
	Submitted   string
	Category    string
	Description string
	Location    string
	Household   string // the household's id, "" for a report about a place
	Head        string
	HamletName  string
	Status      string // the status's label
	StatusCode  string
	Final       bool
	Agency      string
	Reason      string
	Deadline    string // when the open step is due ("" when none is open)
	Overdue     bool
	Resolved    string
	Reporter    string
	Consent     string
	Who         string
	Photos      []string // digests, for the thumbnails
}

func (a *App) reportView(rec agent.Record, lang string, names *people) recView {
	row := a.reportRow(rec, lang, nil, nil, names)
	return recView{ID: rec.ID, Date: row.Submitted, Who: row.Who, What: row.Category, Detail: row.Description, Status: row.Status, Final: row.Final}
}

func (a *App) reportRow(rec agent.Record, lang string, snap *snapshot, hamlets map[string]string, names *people) reportRow {
	ms := func(f string) time.Time {
		if n, ok := rec.Fields[f].(int64); ok {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	row := reportRow{ID: rec.ID, Category: schema.EnumLabel(schema.EnumReportCategory, rec.Str("category"), lang),
		Description: rec.Str("description"), Location: rec.Str("location"), Household: rec.Str("household_id"),
		StatusCode: rec.Str("status"), Agency: rec.Str("agency"), Reason: rec.Str("status_reason"), Reporter: rec.Str("reporter_name"),
		Photos: schema.PhotoDigests(rec.Fields[schema.PhotoDigestsField])}
	if p := rec.Str("reporter_phone"); p != "" {
		if row.Reporter != "" {
			row.Reporter += ", "
		}
		row.Reporter += p
	}
	switch rec.Fields["consent_disclose"] {
	case true:
		row.Consent = tr(lang, "consent_yes_short")
	case false:
		row.Consent = tr(lang, "consent_no_short")
	}
	if names != nil {
		row.Who = names.member(rec.Str("volunteer_id"))
	}
	if snap != nil {
		row.Head = snap.head(row.Household)
	}
	if hamlets != nil {
		row.HamletName = hamletText(rec.Hamlet, hamlets)
	}
	status := schema.ReportStatus(row.StatusCode)
	row.Status = schema.EnumLabel(schema.EnumReportStatus, row.StatusCode, lang)
	row.Final = status.Final()
	submitted := ms("submitted_at")
	if !submitted.IsZero() {
		row.Submitted = i18n.DateTime(submitted, lang)
	}
	if t := ms("resolved_at"); !t.IsZero() {
		row.Resolved = i18n.DateTime(t, lang)
	}
	if due, ok := deadline(a.cal, status, submitted, ms("dispatched_at")); ok {
		row.Deadline = i18n.DateTime(due, lang)
		row.Overdue = a.r.Now().After(due)
	}
	return row
}

// deadline is when the report's open step is due under the province's
// regulation (DESIGN.md, "Field reports workflow"): dispatch from its
// submission (or from its hand-back), the agency's response from its
// dispatch. The server's dashboard counts the same; the laptop uses the
// holidays computed from the Labour Code (workcal.Default), so a deadline
// over an announced bridge day may differ by that day.
func deadline(cal *workcal.Calendar, status schema.ReportStatus, submitted, dispatched time.Time) (time.Time, bool) {
	rule, start, ok := status.Waits(submitted, dispatched)
	if !ok {
		return time.Time{}, false
	}
	return cal.Deadline(start, rule), true
}

type reportsData struct {
	Rows  []reportRow
	Total int
	Page  int
	Pages int
	Base  string
}

// reports lists the team's field reports, newest first, with the status
// and deadline the server sent back at the last sync.
func (a *App) reports(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	ctx := r.Context()
	lang := a.langOf(r)
	all, err := a.r.List(ctx, "field_reports", agent.ListOptions{})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	snap, err := a.idx.get(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := &reportsData{Total: len(all), Page: pageOf(r), Pages: pageCount(len(all)), Base: "/reports"}
	names := a.names(r, en, lang)
	hamlets := hamletNames(en)
	from := min((d.Page-1)*pageSize, len(all))
	for _, rec := range all[from:min(from+pageSize, len(all))] {
		d.Rows = append(d.Rows, a.reportRow(rec, lang, snap, hamlets, names))
	}
	v := &view{Page: "reports", Data: d}
	v.Notice = doneNotice(r, lang)
	a.render(w, r, http.StatusOK, "reports", v)
}

type reportForm struct {
	Household  string
	Head       string
	HamletName string
	Hamlets    []agent.Hamlet
	Categories []schema.ReportCategory
}

func (a *App) reportData(r *http.Request, en *agent.Enrollment) (*reportForm, bool) {
	f := &reportForm{Hamlets: en.Scope, Categories: schema.ReportCategories()}
	if id := r.FormValue("household"); id != "" {
		if _, err := uuid.Parse(id); err != nil {
			return nil, false
		}
		d, err := a.r.Show(r.Context(), "households", id)
		if err != nil || d.Table != "households" {
			return nil, false
		}
		f.Household, f.Head, f.HamletName = d.ID, d.Str("head_name"), hamletText(d.Hamlet, hamletNames(en))
	}
	return f, true
}

func (a *App) reportNew(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.reportData(r, en)
	if !ok {
		a.notFound(w, r)
		return
	}
	form := url.Values{"occurred_at": {i18n.DateTimeBare(a.r.Now(), "vi")}, saveKey: {uuid.NewString()}}
	if len(en.Scope) == 1 {
		form.Set("hamlet_code", en.Scope[0].Code)
	}
	a.render(w, r, http.StatusOK, "report_form", &view{Page: "reports", Form: form, Data: d})
}

func (a *App) reportCreate(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.reportData(r, en)
	if !ok {
		a.notFound(w, r)
		return
	}
	lang := a.langOf(r)
	c := a.checker(lang, "field_reports", r.PostForm, true)
	if d.Household == "" {
		c.hamlet("hamlet_code", en)
	}
	c.choice("category")
	c.text("description")
	c.text("location")
	c.dateTime("occurred_at")
	c.text("reporter_name")
	c.text("reporter_phone")
	if v := r.PostForm.Get("consent_disclose"); v != "yes" && v != "no" {
		// Asked in plain words and never assumed: the answer decides who may
		// read the resident's name and phone.
		c.fail("consent_disclose", tr(lang, "err_consent"))
	} else {
		c.yesNo("consent_disclose")
	}
	// Photos are checked and processed before anything is saved: a bad
	// file refuses the form, no report without the photos it was filed with.
	photos, perr := formPhotos(r)
	if perr != nil {
		c.fail("photo", agent.AppMessageOf(perr, lang))
	}
	status, problem := http.StatusUnprocessableEntity, ""
	if c.ok() {
		fs := agent.Fields{}
		for k, v := range c.vals {
			if v != nil {
				fs[k] = v
			}
		}
		hh := uuid.Nil
		if d.Household != "" {
			hh, _ = uuid.Parse(d.Household)
			delete(fs, schema.ScopeField)
		}
		var err error
		if gps := agreedPlace(r, photos); gps != nil {
			fs["lat"], fs["lng"] = gps.Lat, gps.Lng
		}
		var digests []string
		for _, p := range photos {
			if err = a.r.KeepPhoto(r.Context(), p); err != nil {
				break
			}
			digests = append(digests, p.Digest)
		}
		if len(digests) > 0 {
			fs[schema.PhotoDigestsField] = schema.PhotoDigestsValue(digests)
		}
		if err == nil {
			_, err = a.r.AddReport(r.Context(), hh, fs, savedOnce(r, digests...)...)
		}
		if err == nil {
			if d.Household != "" {
				http.Redirect(w, r, "/households/"+d.Household+"?done=report", http.StatusSeeOther)
			} else {
				http.Redirect(w, r, "/reports?done=report", http.StatusSeeOther)
			}
			return
		}
		if !c.agentErr(err) {
			status, problem = a.saveProblem(r, err)
		}
	}
	a.render(w, r, status, "report_form", &view{Page: "reports", Form: r.PostForm, Errors: c.errs, Order: c.order, Problem: problem, Data: d})
}

package analytics

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

// Role is what a dashboard user or API client may do and see.
type Role string

const (
	// RoleProvincial is provincial staff (Sở TT&TT / Sở KH&CN): statistics of the province.
	RoleProvincial Role = "provincial"
	// RoleCommuneLeader sees their commune's figures and reports.
	RoleCommuneLeader Role = "commune_leader"
	// RoleCoordinator handles field reports (dispatch, resolve, return): the
	// one role that needs to call the resident back.
	RoleCoordinator Role = "coordinator"
	// RoleOperator is IT staff: runs the server, sees no personal data.
	RoleOperator Role = "operator"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleProvincial, RoleCommuneLeader, RoleCoordinator, RoleOperator:
		return true
	}
	return false
}

// SeesReporter reports whether a role may see a reporter's name and phone
// when the resident did not consent to disclose them (seed 002: the
// reporter's identity is kept confidential).
func (r Role) SeesReporter() bool { return r == RoleCoordinator }

// Deadline is the step a report waits on and when it is due.
type Deadline struct {
	Step    string    `json:"step"` // dispatch, response
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
	// Left is the time left (negative when overdue), in seconds for JSON.
	LeftSeconds int64 `json:"left_seconds"`
	// ComputedYears are the years between the step's start and Due that
	// have no official holiday schedule: the deadline counts their
	// holidays as computed from the Labour Code, without bridge days.
	ComputedYears []int `json:"computed_years,omitempty"`
}

// deadline is the open step of a report, if any. A report waits for
// dispatch from the moment it is submitted (and again when an agency hands
// it back), and for the agency's response once dispatched.
func deadline(cal *workcal.Calendar, r *report, now time.Time) (Deadline, bool) {
	rule, start, ok := r.status.Waits(r.submitted, r.dispatched)
	if !ok {
		return Deadline{}, false
	}
	due := cal.Deadline(start, rule)
	return Deadline{Step: rule.Name, Due: due, Overdue: now.After(due), LeftSeconds: int64(due.Sub(now).Seconds()),
		ComputedYears: cal.ComputedYears(start, due)}, true
}

// OnTime is the share of workflow steps done within their deadline.
type OnTime struct {
	Steps   int     `json:"steps"`   // steps due or done
	OnTime  int     `json:"on_time"` // of which within the deadline
	Rate    float64 `json:"rate"`
	Overdue int     `json:"overdue"` // open steps already past their deadline
}

// add counts a report's dispatch step (submitted → dispatched, by the
// portal) and response step (dispatched → resolved, by the agency). A step
// still open counts only once its deadline has passed.
func (o *OnTime) add(cal *workcal.Calendar, r *report, now time.Time) {
	step := func(start, done time.Time, rule workcal.Rule) {
		if start.IsZero() {
			return
		}
		due := cal.Deadline(start, rule)
		switch {
		case !done.IsZero():
			o.Steps++
			if !done.After(due) {
				o.OnTime++
			}
		case now.After(due):
			o.Steps++
			o.Overdue++
		}
	}
	if r.status == schema.StatusReturned {
		return // not accepted as a field report: no handling deadlines
	}
	step(r.submitted, r.dispatched, workcal.Dispatch)
	if r.status != schema.StatusRedispatch {
		step(r.dispatched, r.resolved, workcal.Response)
	}
}

func (o *OnTime) finish() { o.Rate = share(o.OnTime, o.Steps) }

// ReportView is a field report as one viewer may see it.
type ReportView struct {
	ID         string `json:"id"`
	HamletCode string `json:"hamlet_code"`
	// Hamlet is the hamlet's name as lists show it (DisplayName).
	Hamlet          DisplayName `json:"hamlet_name"`
	Category        string      `json:"category"`
	CategoryVI      string      `json:"category_vi"`
	CategoryEN      string      `json:"category_en"`
	Status          string      `json:"status"`
	Description     string      `json:"description"`
	Location        string      `json:"location,omitempty"`
	Agency          string      `json:"agency,omitempty"`
	StatusReason    string      `json:"status_reason,omitempty"`
	SubmittedAt     time.Time   `json:"submitted_at"`
	DispatchedAt    time.Time   `json:"dispatched_at,omitzero"`
	ResolvedAt      time.Time   `json:"resolved_at,omitzero"`
	Satisfaction    int         `json:"satisfaction,omitempty"`
	Deadline        *Deadline   `json:"deadline,omitempty"`
	ConsentDisclose bool        `json:"consent_disclose"`
	// ReporterName and ReporterPhone are empty unless the viewer's role
	// needs them or the resident consented; Hidden says which.
	ReporterName   string `json:"reporter_name,omitempty"`
	ReporterPhone  string `json:"reporter_phone,omitempty"`
	ReporterHidden bool   `json:"reporter_hidden"`
	// Photos are the report's photos by digest (schema 3); whoever may see
	// the report may see them (the dashboard's /reports/{id}/photos/...).
	Photos []string `json:"photos,omitempty"`
}

// ReportFilter selects reports.
type ReportFilter struct {
	Period   *Period
	Status   string
	Category string
}

// Reports lists a unit's reports for a viewer: overdue ones first, then by
// deadline, then newest, then by id. The order is total, so it does not
// depend on the order the model learned of the reports in (a running model
// and a freshly loaded one page alike).
func (x *Index) Reports(ctx context.Context, unit string, f ReportFilter, viewer Role, now time.Time) ([]ReportView, error) {
	if err := x.Refresh(ctx); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	u, err := x.unit(unit)
	if err != nil {
		return nil, err
	}
	inUnit := make([]bool, len(x.hamlets))
	for i, h := range x.hamlets {
		inUnit[i] = x.tree.within(h, u.Code)
	}
	var out []ReportView
	for i := range x.reports {
		r := &x.reports[i]
		if r.deleted || r.hamlet < 0 || !inUnit[r.hamlet] {
			continue
		}
		if f.Status != "" && string(r.status) != f.Status {
			continue
		}
		if f.Category != "" && x.cats[r.category].Code != f.Category {
			continue
		}
		if f.Period != nil {
			from, to := f.Period.days()
			if d := vnDay(r.submitted); d < from || d > to {
				continue
			}
		}
		out = append(out, x.view(r, viewer, now))
	}
	slices.SortFunc(out, func(a, b ReportView) int {
		ao, bo := a.Deadline != nil && a.Deadline.Overdue, b.Deadline != nil && b.Deadline.Overdue
		switch {
		case ao != bo:
			if ao {
				return -1
			}
			return 1
		case a.Deadline != nil && b.Deadline != nil && !a.Deadline.Due.Equal(b.Deadline.Due):
			return a.Deadline.Due.Compare(b.Deadline.Due)
		case (a.Deadline != nil) != (b.Deadline != nil):
			if a.Deadline != nil {
				return -1
			}
			return 1
		}
		if c := b.SubmittedAt.Compare(a.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Report returns one report for a viewer, and its unit's hamlet.
func (x *Index) Report(ctx context.Context, id string, viewer Role, now time.Time) (ReportView, bool, error) {
	if err := x.Refresh(ctx); err != nil {
		return ReportView{}, false, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, ok := x.reportIx[id]
	if !ok || x.reports[i].deleted {
		return ReportView{}, false, nil
	}
	return x.view(&x.reports[i], viewer, now), true, nil
}

func (x *Index) view(r *report, viewer Role, now time.Time) ReportView {
	v := ReportView{ID: r.id, Category: x.cats[r.category].Code, CategoryVI: x.cats[r.category].NameVI, CategoryEN: x.cats[r.category].NameEN, Status: string(r.status),
		Description: r.description, Location: r.location, Agency: r.agency, StatusReason: r.reason, SubmittedAt: r.submitted,
		DispatchedAt: r.dispatched, ResolvedAt: r.resolved, Satisfaction: r.satisfaction, ConsentDisclose: r.consent,
		Photos: slices.Clone(r.photos)}
	if r.hamlet >= 0 {
		v.HamletCode = x.hamlets[r.hamlet]
		v.Hamlet = x.tree.displayName(v.HamletCode)
	}
	if d, ok := deadline(x.cal, r, now); ok {
		v.Deadline = &d
	}
	if r.consent || viewer.SeesReporter() {
		v.ReporterName, v.ReporterPhone = r.reporterName, r.reporterPhone
	} else {
		v.ReporterHidden = r.reporterName != "" || r.reporterPhone != ""
	}
	return v
}

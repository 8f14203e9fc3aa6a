package schema

import (
	"encoding/json"
	"time"

	"github.com/hamlet-vn/hamlet/workcal"
)

// Role of a member in a team.
type Role string

const (
	RoleLeader Role = "leader" // tổ trưởng
	RoleMember Role = "member"
)

// TutoringOutcome is what a volunteer records at the end of a lesson.
type TutoringOutcome string

const (
	OutcomeIndependent TutoringOutcome = "independent" // can do it alone
	OutcomeNeedsHelp   TutoringOutcome = "needs_help"
)

// ReportStatus is where a field report is in the CaMau-G workflow (seed 002).
type ReportStatus string

const (
	StatusSubmitted  ReportStatus = "submitted"   // filed, waiting for the provincial portal
	StatusDispatched ReportStatus = "dispatched"  // sent to an agency
	StatusInProgress ReportStatus = "in_progress" // the agency is handling it
	StatusResolved   ReportStatus = "resolved"    // result fed back: final
	StatusReturned   ReportStatus = "returned"    // out of scope, not accepted: final
	StatusRedispatch ReportStatus = "redispatch"  // agency handed it back as not its jurisdiction
)

var reportStatuses = []ReportStatus{StatusSubmitted, StatusDispatched, StatusInProgress, StatusResolved, StatusReturned, StatusRedispatch}

// transitions follows seed 002: the portal dispatches or returns a new
// report; an agency works on it or hands it back for re-dispatch (or it is
// found out of scope); a handed-back report is dispatched again or returned.
// The seed gives no way to reopen a resolved or returned report, so both are
// final: a new problem is a new report.
var transitions = map[ReportStatus][]ReportStatus{
	StatusSubmitted:  {StatusDispatched, StatusReturned},
	StatusDispatched: {StatusInProgress, StatusRedispatch, StatusReturned},
	StatusInProgress: {StatusResolved, StatusRedispatch},
	StatusRedispatch: {StatusDispatched, StatusReturned},
}

// CanTransition reports whether a report may move from one status to another.
// Staying in the same status is not a transition.
func CanTransition(from, to ReportStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s ReportStatus) Final() bool { return s.Valid() && len(transitions[s]) == 0 }

// Waits says which deadline a report in status s runs against and from
// when (DESIGN.md's "Field reports workflow"): dispatch from its submission
// (again from the hand-back, dated by dispatched_at), the agency's response
// from its dispatch. ok is false when no step is open. The dashboard and the
// volunteer's app both count deadlines from it.
func (s ReportStatus) Waits(submitted, dispatched time.Time) (rule workcal.Rule, start time.Time, ok bool) {
	switch s {
	case StatusSubmitted:
		rule, start = workcal.Dispatch, submitted
	case StatusRedispatch:
		rule, start = workcal.Dispatch, dispatched
	case StatusDispatched:
		rule, start = workcal.Response, dispatched
	default:
		return workcal.Rule{}, time.Time{}, false
	}
	if start.IsZero() {
		start = submitted
	}
	return rule, start, !start.IsZero()
}

// Valid reports whether s is a known status.
func (s ReportStatus) Valid() bool { return enumHas(EnumReportStatus, string(s)) }

// Team is a hamlet team (tổ công nghệ số cộng đồng) of one commune.
type Team struct {
	ID          string
	CommuneCode string
	Name        string
	HamletCodes []string
}

// Validate checks the team's fields and the shape of its hamlet codes.
// Whether a hamlet is in the team's commune is the server's to check, by
// the hamlet's parent: after a reorganisation (the 2025 merger) a hamlet
// keeps its code, whose first five digits then name its old commune.
func (t Team) Validate() error {
	if err := checkAll("teams",
		check{"id", uuidField, t.ID},
		check{"name", nameField, t.Name},
	); err != nil {
		return err
	}
	if !digits(t.CommuneCode, 5) {
		return verr("teams", "commune_code", CodeWrongType, "want a 5-digit commune code")
	}
	if len(t.HamletCodes) == 0 {
		return verr("teams", "hamlet_codes", CodeRequired, "a team covers at least one hamlet")
	}
	seen := map[string]bool{}
	for _, h := range t.HamletCodes {
		if err := ValidateHamletCode(h); err != nil {
			return verr("teams", "hamlet_codes", CodeInvalidHamlet, "%s", err.(*ValidationError).Detail)
		}
		if seen[h] {
			return verr("teams", "hamlet_codes", CodeInvalidHamlet, "hamlet %s listed twice", h)
		}
		seen[h] = true
	}
	return nil
}

// Member is a volunteer in a team.
type Member struct {
	ID     string
	TeamID string
	Name   string
	Role   Role
	Phone  string // optional
}

// Validate checks the member's fields.
func (m Member) Validate() error {
	return checkAll("members",
		check{"id", uuidField, m.ID},
		check{"team_id", uuidField, m.TeamID},
		check{"name", nameField, m.Name},
		check{"role", Field{Type: TypeEnum, Enum: EnumRole, Required: true}, string(m.Role)},
		check{"phone", Field{Type: TypePhone}, m.Phone},
	)
}

// Device is a laptop enrolled for a member.
type Device struct {
	ID       string
	MemberID string
	Label    string // what the member calls it, e.g. "Laptop tổ ấp 3"
}

// Validate checks the device's fields.
func (d Device) Validate() error {
	return checkAll("devices",
		check{"id", uuidField, d.ID},
		check{"member_id", uuidField, d.MemberID},
		check{"label", Field{Type: TypeString, Required: true, MaxLen: 100}, d.Label},
	)
}

var (
	uuidField = Field{Type: TypeUUID, Required: true}
	nameField = Field{Type: TypeString, Required: true, MaxLen: lenName}
)

type check struct {
	name  string
	field Field
	value any
}

// checkAll runs the synced-field rules on the fields of a non-synced entity,
// so a team name and a household head's name are held to the same rules.
func checkAll(table string, cs ...check) error {
	for _, c := range cs {
		c.field.Name = c.name
		if _, err := c.field.normalize(table, c.value); err != nil {
			return err
		}
	}
	return nil
}

// The synced entities below are typed views of a registry row. Row gives the
// map the registry validates; Validate checks the id and then the row, so
// the struct and the field-by-field sync path can never disagree.

// Household is a hộ, the unit coverage is counted in.
type Household struct {
	ID                 string
	HamletCode         string
	HeadName           string
	Address            string
	Phone              string
	MembersCount       int // 0 = not recorded
	HasSmartphone      bool
	VNeIDInstalled     bool
	VNeIDLevel2        bool
	UsesPublicServices bool
	UsesCashless       bool
	HasEHealthRecord   bool
	UsesCaMauG         bool // schema 2
	Active             bool // false once the household moved away or dissolved
	RegisteredOn       string
	Notes              string
}

// Row returns the household as a households row (without id).
func (h Household) Row() map[string]any {
	return map[string]any{
		"hamlet_code":          h.HamletCode,
		"head_name":            h.HeadName,
		"address":              h.Address,
		"phone":                h.Phone,
		"members_count":        optInt(h.MembersCount),
		"has_smartphone":       h.HasSmartphone,
		"vneid_installed":      h.VNeIDInstalled,
		"vneid_level2":         h.VNeIDLevel2,
		"uses_public_services": h.UsesPublicServices,
		"uses_cashless":        h.UsesCashless,
		"has_ehealth_record":   h.HasEHealthRecord,
		"uses_camau_g":         h.UsesCaMauG,
		"active":               h.Active,
		"registered_on":        h.RegisteredOn,
		"notes":                h.Notes,
	}
}

// Validate checks the household against the households table.
func (h Household) Validate() error { return validateRow("households", h.ID, h.Row()) }

// Visit is one door-to-door visit.
type Visit struct {
	ID          string
	HamletCode  string
	HouseholdID string
	VolunteerID string
	VisitedOn   string
	Notes       string
}

// Row returns the visit as a visits row (without id).
func (v Visit) Row() map[string]any {
	return map[string]any{
		"hamlet_code":  v.HamletCode,
		"household_id": v.HouseholdID,
		"volunteer_id": v.VolunteerID,
		"visited_on":   v.VisitedOn,
		"notes":        v.Notes,
	}
}

// Validate checks the visit against the visits table.
func (v Visit) Validate() error { return validateRow("visits", v.ID, v.Row()) }

// TutoringRecord is one skill taught to a household.
type TutoringRecord struct {
	ID          string
	HamletCode  string
	HouseholdID string
	VolunteerID string
	Skill       string
	PersonName  string // optional: the member taught
	TaughtOn    string
	Outcome     TutoringOutcome
}

// Row returns the record as a tutoring_records row (without id).
func (r TutoringRecord) Row() map[string]any {
	return map[string]any{
		"hamlet_code":  r.HamletCode,
		"household_id": r.HouseholdID,
		"volunteer_id": r.VolunteerID,
		"skill":        r.Skill,
		"person_name":  r.PersonName,
		"taught_on":    r.TaughtOn,
		"outcome":      string(r.Outcome),
	}
}

// Validate checks the record against the tutoring_records table.
func (r TutoringRecord) Validate() error { return validateRow("tutoring_records", r.ID, r.Row()) }

// FieldReport is a phản ánh hiện trường filed on a resident's behalf.
// ReporterName and ReporterPhone are confidential (see Field.Confidential).
type FieldReport struct {
	ID              string
	HamletCode      string
	HouseholdID     string // optional
	VolunteerID     string
	Category        string
	Description     string
	Location        string
	Lat, Lng        *float64 // nil when no position was taken
	OccurredAt      time.Time
	ReporterName    string
	ReporterPhone   string
	ConsentDisclose bool
	Photos          []string
	// PhotoDigests are the report's photos (schema 3, photo_digests).
	PhotoDigests []string
	Status       ReportStatus
	StatusReason string
	Agency       string
	SubmittedAt  time.Time
	DispatchedAt time.Time
	ResolvedAt   time.Time
	Satisfaction int // 1..5, 0 = not rated yet
}

// Row returns the report as a field_reports row (without id).
func (r FieldReport) Row() map[string]any {
	var photos any
	if len(r.Photos) > 0 {
		b, _ := json.Marshal(r.Photos) // []string always marshals
		photos = string(b)
	}
	return map[string]any{
		"hamlet_code":      r.HamletCode,
		"household_id":     r.HouseholdID,
		"volunteer_id":     r.VolunteerID,
		"category":         r.Category,
		"description":      r.Description,
		"location":         r.Location,
		"lat":              optFloat(r.Lat),
		"lng":              optFloat(r.Lng),
		"occurred_at":      optTime(r.OccurredAt),
		"reporter_name":    r.ReporterName,
		"reporter_phone":   r.ReporterPhone,
		"consent_disclose": r.ConsentDisclose,
		"photos":           photos,
		"photo_digests":    PhotoDigestsValue(r.PhotoDigests),
		"status":           string(r.Status),
		"status_reason":    r.StatusReason,
		"agency":           r.Agency,
		"submitted_at":     optTime(r.SubmittedAt),
		"dispatched_at":    optTime(r.DispatchedAt),
		"resolved_at":      optTime(r.ResolvedAt),
		"satisfaction":     optInt(r.Satisfaction),
	}
}

// Validate checks the report against the field_reports table.
func (r FieldReport) Validate() error { return validateRow("field_reports", r.ID, r.Row()) }

func validateRow(table, id string, row map[string]any) error {
	if err := checkAll(table, check{"id", uuidField, id}); err != nil {
		return err
	}
	t, _ := LookupTable(table)
	_, err := t.ValidateRow(row)
	return err
}

func optInt(n int) any {
	if n == 0 {
		return nil
	}
	return int64(n)
}

func optFloat(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

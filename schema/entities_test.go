package schema_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

func TestCanTransition(t *testing.T) {
	S := func(s string) schema.ReportStatus { return schema.ReportStatus(s) }
	allowed := map[[2]string]bool{
		{"submitted", "dispatched"}:   true,
		{"submitted", "returned"}:     true,
		{"dispatched", "in_progress"}: true,
		{"dispatched", "redispatch"}:  true,
		{"dispatched", "returned"}:    true,
		{"in_progress", "resolved"}:   true,
		{"in_progress", "redispatch"}: true,
		{"redispatch", "dispatched"}:  true,
		{"redispatch", "returned"}:    true,
	}
	all := schema.EnumValues(schema.EnumReportStatus)
	// Every pair, so a transition added by mistake fails too.
	for _, from := range append(all, "closed", "") {
		for _, to := range append(all, "closed", "") {
			require.Equal(t, allowed[[2]string{from, to}], schema.CanTransition(S(from), S(to)), "%s -> %s", from, to)
		}
	}
	require.True(t, schema.StatusResolved.Final())
	require.True(t, schema.StatusReturned.Final())
	require.False(t, schema.StatusRedispatch.Final())
	require.False(t, schema.ReportStatus("closed").Final())
}

const (
	id1 = "0b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d"
	id2 = "1b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d"
	id3 = "2b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d"
)

func TestEntityValidate(t *testing.T) {
	lat, badLat := 9.18, 120.0
	tests := []struct {
		name   string
		entity interface{ Validate() error }
		field  string // "" = valid
		code   string
	}{
		{"team", schema.Team{ID: id1, CommuneCode: "32248", Name: "Tổ CNSCĐ ấp Xóm Mũi", HamletCodes: []string{"32248-01", "32248-02"}}, "", ""},
		{"team no hamlets", schema.Team{ID: id1, CommuneCode: "32248", Name: "Tổ"}, "hamlet_codes", schema.CodeRequired},
		// A moved hamlet keeps its code: membership is the server's check, by parent.
		{"team hamlet of another code", schema.Team{ID: id1, CommuneCode: "32002", Name: "Tổ", HamletCodes: []string{"32005-01"}}, "", ""},
		{"team hamlet twice", schema.Team{ID: id1, CommuneCode: "32248", Name: "Tổ", HamletCodes: []string{"32248-01", "32248-01"}}, "hamlet_codes", schema.CodeInvalidHamlet},
		{"team commune", schema.Team{ID: id1, CommuneCode: "964", Name: "Tổ", HamletCodes: []string{"32248-01"}}, "commune_code", schema.CodeWrongType},
		{"team id", schema.Team{ID: "t1", CommuneCode: "32248", Name: "Tổ", HamletCodes: []string{"32248-01"}}, "id", schema.CodeInvalidUUID},
		{"member", schema.Member{ID: id1, TeamID: id2, Name: "Lê Văn Hai", Role: schema.RoleLeader, Phone: "0912 345 678"}, "", ""},
		{"member no phone", schema.Member{ID: id1, TeamID: id2, Name: "Lê Văn Hai", Role: schema.RoleMember}, "", ""},
		{"member role", schema.Member{ID: id1, TeamID: id2, Name: "Lê Văn Hai", Role: "chief"}, "role", schema.CodeUnknownEnum},
		{"member phone", schema.Member{ID: id1, TeamID: id2, Name: "Lê Văn Hai", Role: schema.RoleMember, Phone: "123"}, "phone", schema.CodeInvalidPhone},
		{"member name", schema.Member{ID: id1, TeamID: id2, Role: schema.RoleMember}, "name", schema.CodeRequired},
		{"device", schema.Device{ID: id1, MemberID: id2, Label: "Laptop tổ ấp 3"}, "", ""},
		{"device member", schema.Device{ID: id1, Label: "Laptop"}, "member_id", schema.CodeRequired},
		{"household", schema.Household{ID: id1, HamletCode: "32248-01", HeadName: "Trần Thị Ba", MembersCount: 4, Active: true, RegisteredOn: "2025-07-01"}, "", ""},
		{"household no head", schema.Household{ID: id1, HamletCode: "32248-01"}, "head_name", schema.CodeRequired},
		{"household members", schema.Household{ID: id1, HamletCode: "32248-01", HeadName: "A", MembersCount: 51}, "members_count", schema.CodeOutOfRange},
		{"household id", schema.Household{HamletCode: "32248-01", HeadName: "A"}, "id", schema.CodeRequired},
		{"visit", schema.Visit{ID: id1, HamletCode: "32248-01", HouseholdID: id2, VolunteerID: id3, VisitedOn: "2025-07-02"}, "", ""},
		{"visit date", schema.Visit{ID: id1, HamletCode: "32248-01", HouseholdID: id2, VolunteerID: id3, VisitedOn: "02/07/2025"}, "visited_on", schema.CodeInvalidDate},
		{"tutoring", schema.TutoringRecord{ID: id1, HamletCode: "32248-01", HouseholdID: id2, VolunteerID: id3, Skill: "camau_g", TaughtOn: "2025-07-02", Outcome: schema.OutcomeNeedsHelp}, "", ""},
		{"tutoring skill", schema.TutoringRecord{ID: id1, HamletCode: "32248-01", HouseholdID: id2, VolunteerID: id3, Skill: "juggling", TaughtOn: "2025-07-02", Outcome: schema.OutcomeNeedsHelp}, "skill", schema.CodeUnknownEnum},
		{"tutoring outcome", schema.TutoringRecord{ID: id1, HamletCode: "32248-01", HouseholdID: id2, VolunteerID: id3, Skill: "camau_g", TaughtOn: "2025-07-02"}, "outcome", schema.CodeRequired},
		{"report", schema.FieldReport{
			ID: id1, HamletCode: "32248-01", VolunteerID: id3, Category: "ha_tang_do_thi", Description: "Đèn đường hỏng",
			Lat: &lat, OccurredAt: time.Date(2025, 7, 2, 8, 0, 0, 0, time.UTC), ReporterPhone: "+84912345678",
			Photos: []string{"a.jpg"}, Status: schema.StatusSubmitted, Satisfaction: 5,
		}, "", ""},
		{"report lat", schema.FieldReport{ID: id1, HamletCode: "32248-01", VolunteerID: id3, Category: "ha_tang_do_thi", Description: "x", Lat: &badLat}, "lat", schema.CodeOutOfRange},
		{"report status", schema.FieldReport{ID: id1, HamletCode: "32248-01", VolunteerID: id3, Category: "ha_tang_do_thi", Description: "x", Status: "closed"}, "status", schema.CodeUnknownEnum},
		{"report description", schema.FieldReport{ID: id1, HamletCode: "32248-01", VolunteerID: id3, Category: "ha_tang_do_thi"}, "description", schema.CodeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entity.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			requireCode(t, err, tt.code)
			require.Equal(t, tt.field, err.(*schema.ValidationError).Field)
		})
	}
}

// Row must produce exactly the registry's fields, or the struct and the
// sync path would drift apart.
func TestEntityRowsMatchRegistry(t *testing.T) {
	rows := map[string]map[string]any{
		"households":       schema.Household{}.Row(),
		"visits":           schema.Visit{}.Row(),
		"tutoring_records": schema.TutoringRecord{}.Row(),
		"field_reports":    schema.FieldReport{}.Row(),
	}
	for _, tb := range schema.SyncedTables() {
		var want, got []string
		for _, f := range tb.Fields {
			want = append(want, f.Name)
		}
		for k := range rows[tb.Name] {
			got = append(got, k)
		}
		require.ElementsMatch(t, want, got, tb.Name)
	}
}

// A report's open deadline: dispatch from submission (or the hand-back),
// the response from dispatch; none once the agency works on it or it ends.
func TestReportWaits(t *testing.T) {
	sub := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	disp := sub.Add(3 * time.Hour)
	tests := []struct {
		status     schema.ReportStatus
		dispatched time.Time
		rule       workcal.Rule
		start      time.Time
		ok         bool
	}{
		{schema.StatusSubmitted, time.Time{}, workcal.Dispatch, sub, true},
		{schema.StatusDispatched, disp, workcal.Response, disp, true},
		{schema.StatusDispatched, time.Time{}, workcal.Response, sub, true},
		{schema.StatusRedispatch, disp, workcal.Dispatch, disp, true},
		{schema.StatusRedispatch, time.Time{}, workcal.Dispatch, sub, true},
		{schema.StatusInProgress, disp, workcal.Rule{}, time.Time{}, false},
		{schema.StatusResolved, disp, workcal.Rule{}, time.Time{}, false},
		{schema.StatusReturned, disp, workcal.Rule{}, time.Time{}, false},
	}
	for _, tt := range tests {
		rule, start, ok := tt.status.Waits(sub, tt.dispatched)
		require.Equal(t, tt.ok, ok, tt.status)
		require.Equal(t, tt.rule, rule, tt.status)
		require.True(t, tt.start.Equal(start), "%s: start %v, want %v", tt.status, start, tt.start)
	}
	_, _, ok := schema.StatusSubmitted.Waits(time.Time{}, time.Time{})
	require.False(t, ok, "a report with no submission time waits on nothing")
}

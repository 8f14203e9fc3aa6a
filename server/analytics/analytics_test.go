package analytics

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/stretchr/testify/require"
)

// memSource is a Source over generated rows, with a log of changed refs.
type memSource struct {
	units  []schema.AdminUnit
	teams  []Team
	tables map[string]map[string]map[string]any
	log    []Ref
}

func newMemSource() *memSource {
	return &memSource{tables: map[string]map[string]map[string]any{
		"households": {}, "visits": {}, "tutoring_records": {}, "field_reports": {}}}
}

func (m *memSource) put(table, id string, row map[string]any) {
	r := map[string]any{schema.DeletedField: int64(0)}
	for k, v := range row {
		if b, ok := v.(bool); ok { // as SQLite returns booleans
			v = int64(0)
			if b {
				v = int64(1)
			}
		}
		r[k] = v
	}
	m.tables[table][id] = r
	m.log = append(m.log, Ref{Table: table, ID: id})
}

func (m *memSource) Household(h schema.Household) error {
	m.put("households", h.ID, h.Row())
	return nil
}
func (m *memSource) Visit(v schema.Visit) error { m.put("visits", v.ID, v.Row()); return nil }
func (m *memSource) Tutoring(t schema.TutoringRecord) error {
	m.put("tutoring_records", t.ID, t.Row())
	return nil
}
func (m *memSource) Report(r schema.FieldReport) error {
	m.put("field_reports", r.ID, r.Row())
	return nil
}

func (m *memSource) Head(context.Context) (uint64, error) { return uint64(len(m.log)), nil }
func (m *memSource) Changed(_ context.Context, after uint64) ([]Ref, uint64, error) {
	return slices.Clone(m.log[after:]), uint64(len(m.log)), nil
}
func (m *memSource) Load(_ context.Context, table string, ids []string, fn func(string, map[string]any) error) error {
	if ids == nil {
		for id := range m.tables[table] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	// One map refilled for every row, as SQLSource does: the model must copy
	// what it keeps (Source.Load).
	row := map[string]any{}
	for _, id := range ids {
		if stored, ok := m.tables[table][id]; ok {
			clear(row)
			maps.Copy(row, stored)
			if err := fn(id, row); err != nil {
				return err
			}
		}
	}
	return nil
}
func (m *memSource) Units(context.Context) ([]schema.AdminUnit, error) { return m.units, nil }
func (m *memSource) Teams(context.Context) ([]Team, error)             { return m.teams, nil }

// province builds a generated province under the 2022 tree.
func province(t testing.TB, s camau.Scale, lastSync time.Time) (*memSource, *camau.Structure) {
	t.Helper()
	st, err := camau.BuildStructure(s)
	require.NoError(t, err)
	src := newMemSource()
	src.units = append(slices.Clone(st.Units2022), st.Hamlets...)
	for _, tm := range st.Teams {
		team := Team{ID: tm.ID, Name: tm.Name, CommuneCode: tm.CommuneCode, Hamlets: tm.HamletCodes}
		for i, m := range tm.Members {
			mm := Member{ID: m.ID, Role: string(m.Role)}
			if i%2 == 0 {
				mm.LastSync = lastSync
			}
			team.Members = append(team.Members, mm)
		}
		src.teams = append(src.teams, team)
	}
	_, err = camau.Generate(s, st, src)
	require.NoError(t, err)
	return src, st
}

func day0(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// The seeds' province, reported exactly: 45 of 101 communes with teams, 343
// teams, 1,610 members, and the first month of CaMau-G: 142 reports, 97
// handled, 45 returned.
func TestTeamStatsReproduceTheSeeds(t *testing.T) {
	now := day0("2022-08-01")
	src, _ := province(t, camau.Seed2023(), now.Add(-24*time.Hour))
	x := New(src, nil)
	st, err := x.TeamStats(context.Background(), schema.ProvinceCodeCaMau, Period{From: day0("2022-07-01"), To: day0("2022-07-31")}, Monthly, now)
	require.NoError(t, err)
	require.Equal(t, 101, st.Communes)
	require.Equal(t, 45, st.CommunesWithTeams)
	require.Equal(t, 343, st.Teams)
	require.Equal(t, 1610, st.Members)
	require.Equal(t, 142, st.ReportsTotal)
	require.Equal(t, 97, st.ReportsByStatus["resolved"])
	require.Equal(t, 45, st.ReportsByStatus["returned"])
	// Members 0, 2, 4 of each team synced yesterday: 238 teams of five, 105 of four.
	require.Equal(t, 238*3+105*2, st.ActiveMembers)
	require.Len(t, st.Trend, 1)
	var perCategory int
	for _, c := range st.Reports {
		perCategory += c.Total
	}
	require.Equal(t, 142, perCategory)
}

// Coverage must agree with a count made straight from the generated rows,
// and the children must add up to their parent.
func TestCoverageAgreesWithABruteForceCount(t *testing.T) {
	src, _ := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	p := Period{From: day0("2026-10-01"), To: day0("2026-10-31")}
	cov, err := x.Coverage(context.Background(), schema.ProvinceCodeCaMau, p)
	require.NoError(t, err)

	reachedIDs := map[string]bool{}
	for _, tbl := range []string{"visits", "tutoring_records"} {
		col := map[string]string{"visits": "visited_on", "tutoring_records": "taught_on"}[tbl]
		for _, r := range src.tables[tbl] {
			if d := r[col].(string); d >= "2026-10-01" && d <= "2026-10-31" {
				reachedIDs[r["household_id"].(string)] = true
			}
		}
	}
	var households, reached int
	for id, r := range src.tables["households"] {
		if r["active"] == int64(1) {
			households++
			if reachedIDs[id] {
				reached++
			}
		}
	}
	require.Equal(t, households, cov.Unit.Households)
	require.Equal(t, reached, cov.Unit.Reached)
	require.Positive(t, reached)
	var sumH, sumR int
	for _, c := range cov.Children {
		sumH += c.Households
		sumR += c.Reached
		require.Equal(t, "district", c.Level, "2022 tree: the province's children are districts")
	}
	require.Equal(t, households, sumH)
	require.Equal(t, reached, sumR)

	// Drill down to a hamlet: it has no children and its own figures.
	hamlet := cov.Children[0]
	dcov, err := x.Coverage(context.Background(), hamlet.Code, p)
	require.NoError(t, err)
	require.Equal(t, hamlet.Households, dcov.Unit.Households)
}

// The 2025 merger moves hamlets to new communes and retires the old ones:
// the same households must give the same provincial coverage.
func TestCoverageUnchangedByTheMerger(t *testing.T) {
	src, st := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	ctx := context.Background()
	p := Period{From: day0("2026-09-01"), To: day0("2026-11-30")}
	before, err := x.Coverage(ctx, schema.ProvinceCodeCaMau, p)
	require.NoError(t, err)

	// Apply the 2025 structure as an operator's import would: 2025 units in
	// force, 2022 districts and communes retired, hamlets re-parented.
	in2025 := map[string]bool{}
	var units []schema.AdminUnit
	for _, u := range st.Units2025 {
		in2025[u.Code] = true
		units = append(units, u)
	}
	for _, u := range st.Units2022 {
		if u.Level != schema.LevelProvince && !in2025[u.Code] {
			u.RetiredOn = schema.Units2025EffectiveOn
			units = append(units, u)
		}
	}
	for _, h := range st.Hamlets {
		h.ParentCode = st.Hamlet2025[h.Code]
		units = append(units, h)
	}
	src.units = units
	after, err := x.Coverage(ctx, schema.ProvinceCodeCaMau, p)
	require.NoError(t, err)
	require.Equal(t, before.Unit.Households, after.Unit.Households)
	require.Equal(t, before.Unit.Reached, after.Unit.Reached)
	require.Equal(t, before.Unit.Skills, after.Unit.Skills)
	require.Equal(t, "commune", after.Children[0].Level, "2025 tree: communes hang under the province")

	// A retired commune answers where its households went.
	_, err = x.Coverage(ctx, "32011", p)
	var ue *UnitError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, schema.Units2025EffectiveOn, ue.Retired)
}

func TestReporterIsConfidentialUnlessConsented(t *testing.T) {
	src, _ := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	now := day0("2026-12-01")
	ctx := context.Background()
	var consented, hidden int
	for _, role := range []Role{RoleCoordinator, RoleCommuneLeader, RoleProvincial, RoleOperator} {
		views, err := x.Reports(ctx, schema.ProvinceCodeCaMau, ReportFilter{}, role, now)
		require.NoError(t, err)
		require.Len(t, views, 60)
		for _, v := range views {
			switch {
			case role == RoleCoordinator:
				require.NotEmpty(t, v.ReporterName, "the coordinator calls residents back")
				require.False(t, v.ReporterHidden)
			case v.ConsentDisclose:
				require.NotEmpty(t, v.ReporterPhone)
				consented++
			default:
				require.Empty(t, v.ReporterName)
				require.Empty(t, v.ReporterPhone)
				require.True(t, v.ReporterHidden)
				hidden++
			}
		}
	}
	require.Positive(t, consented)
	require.Positive(t, hidden)
}

func TestReportsOverdueFirstAndIncrementalRefresh(t *testing.T) {
	src := newMemSource()
	st, err := camau.BuildStructure(camau.Small())
	require.NoError(t, err)
	src.units = append(slices.Clone(st.Units2022), st.Hamlets...)
	hamlet := st.Hamlets[0].Code
	x := New(src, nil)
	ctx := context.Background()
	loc := x.Calendar().Location()
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, loc) // a Wednesday afternoon
	mk := func(id string, submitted time.Time, status schema.ReportStatus) {
		src.put("field_reports", id, schema.FieldReport{ID: id, HamletCode: hamlet, VolunteerID: "00000000-0000-4000-8000-000000000001",
			Category: "ha_tang_do_thi", Description: "Đèn đường hỏng", SubmittedAt: submitted, Status: status}.Row())
	}
	mk("00000000-0000-4000-8000-0000000000a1", now.Add(-30*time.Minute), schema.StatusSubmitted) // due 16:30 + ... not overdue
	mk("00000000-0000-4000-8000-0000000000a2", now.Add(-26*time.Hour), schema.StatusSubmitted)   // yesterday: overdue
	mk("00000000-0000-4000-8000-0000000000a3", now.Add(-48*time.Hour), schema.StatusResolved)    // closed
	views, err := x.Reports(ctx, hamlet, ReportFilter{}, RoleProvincial, now)
	require.NoError(t, err)
	require.Len(t, views, 3)
	require.True(t, views[0].Deadline.Overdue)
	require.Equal(t, "00000000-0000-4000-8000-0000000000a2", views[0].ID)
	require.False(t, views[1].Deadline.Overdue)
	require.Nil(t, views[2].Deadline)

	// Status changes arriving through the log are seen by the next
	// question, each report with its own.
	mk("00000000-0000-4000-8000-0000000000a2", now.Add(-26*time.Hour), schema.StatusReturned)
	mk("00000000-0000-4000-8000-0000000000a1", now.Add(-30*time.Minute), schema.StatusDispatched)
	for status, id := range map[string]string{"returned": "00000000-0000-4000-8000-0000000000a2", "dispatched": "00000000-0000-4000-8000-0000000000a1"} {
		views, err = x.Reports(ctx, hamlet, ReportFilter{Status: status}, RoleProvincial, now)
		require.NoError(t, err)
		require.Len(t, views, 1, status)
		require.Equal(t, id, views[0].ID)
	}
}

func TestUnknownUnit(t *testing.T) {
	src, _ := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	_, err := x.Coverage(context.Background(), "99999", Period{From: day0("2026-01-01"), To: day0("2026-01-31")})
	require.ErrorIs(t, err, ErrUnknownUnit)
}

// The trend stops at today: weeks and months to come are not drawn as
// weeks without work (issue 21, item 14). Records dated later still count
// in the period's totals.
func TestTrendStopsAtToday(t *testing.T) {
	src, _ := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	p := Period{From: day0("2026-09-01"), To: day0("2026-11-30")}
	// 2026-10-15 in Vietnam, a Thursday: its week began on Monday 12 October.
	now := time.Date(2026, 10, 15, 7, 0, 0, 0, time.UTC)
	visitsUpTo := 0
	for _, row := range src.tables["visits"] {
		if row["visited_on"].(string) <= "2026-10-15" {
			visitsUpTo++
		}
	}
	require.Positive(t, visitsUpTo)
	for _, tc := range []struct {
		g    Granularity
		last string
	}{{Weekly, "2026-10-12"}, {Monthly, "2026-10-01"}} {
		t.Run(string(tc.g), func(t *testing.T) {
			st, err := x.TeamStats(context.Background(), schema.ProvinceCodeCaMau, p, tc.g, now)
			require.NoError(t, err)
			require.NotEmpty(t, st.Trend)
			require.Equal(t, tc.last, st.Trend[len(st.Trend)-1].Start, "the last bucket is today's")
			sum := 0
			for _, b := range st.Trend {
				sum += b.Visits
			}
			if tc.g == Weekly {
				require.Equal(t, visitsUpTo, sum, "every visit up to today, none after")
			}
			full, err := x.TeamStats(context.Background(), schema.ProvinceCodeCaMau, p, tc.g, day0("2026-12-02"))
			require.NoError(t, err)
			require.Equal(t, full.HouseholdsReached, st.HouseholdsReached, "the totals keep the whole period")
		})
	}
	st, err := x.TeamStats(context.Background(), schema.ProvinceCodeCaMau, Period{From: day0("2026-12-01"), To: day0("2026-12-31")}, Weekly, now)
	require.NoError(t, err)
	require.NotNil(t, st.Trend)
	require.Empty(t, st.Trend, "a period still to come has no trend")
}

// LatestDay is the newest day with figures up to today, per unit: what a
// leader's first view shows (issue 21, item 13).
func TestLatestDay(t *testing.T) {
	src, st := province(t, camau.Small(), time.Time{})
	x := New(src, nil)
	ctx := context.Background()
	d, ok, err := x.LatestDay(ctx, schema.ProvinceCodeCaMau, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "2026-11-30", d.Format(time.DateOnly), "the data ends with November")
	// A day still to come is not the latest day with figures.
	d, ok, err = x.LatestDay(ctx, schema.ProvinceCodeCaMau, time.Date(2026, 10, 14, 18, 0, 0, 0, time.UTC)) // 15/10 01:00 in Vietnam
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "2026-10-15", d.Format(time.DateOnly))
	withTeams := map[string]bool{}
	for _, tm := range st.Teams {
		withTeams[tm.CommuneCode] = true
	}
	for _, u := range st.Units2022 {
		if u.Level == schema.LevelCommune && !withTeams[u.Code] {
			_, ok, err := x.LatestDay(ctx, u.Code, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
			require.NoError(t, err)
			require.False(t, ok, "commune %s has no team and no figures", u.Code)
			break
		}
	}
}

package camau

import (
	"strings"
	"testing"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/stretchr/testify/require"
)

// collect keeps everything and validates every row as the server would.
type collect struct {
	t          testing.TB
	households []schema.Household
	visits     []schema.Visit
	tutoring   []schema.TutoringRecord
	reports    []schema.FieldReport
}

func (c *collect) Household(h schema.Household) error {
	c.households = append(c.households, h)
	return h.Validate()
}
func (c *collect) Visit(v schema.Visit) error { c.visits = append(c.visits, v); return v.Validate() }
func (c *collect) Tutoring(r schema.TutoringRecord) error {
	c.tutoring = append(c.tutoring, r)
	return r.Validate()
}
func (c *collect) Report(r schema.FieldReport) error {
	c.reports = append(c.reports, r)
	return r.Validate()
}

func TestSeed2023MatchesTheSeeds(t *testing.T) {
	s := Seed2023()
	st, err := BuildStructure(s)
	require.NoError(t, err)
	communes := map[string]bool{}
	members := 0
	for _, tm := range st.Teams {
		require.NoError(t, tm.Validate())
		communes[tm.CommuneCode] = true
		members += len(tm.Members)
		require.Equal(t, schema.RoleLeader, tm.Members[0].Role)
		for _, m := range tm.Members {
			require.NoError(t, m.Validate())
		}
	}
	require.Len(t, communes, 45)
	require.Len(t, st.Teams, 343)
	require.Equal(t, 1610, members)
	require.InDelta(t, 863, len(st.Hamlets), 1)

	c := &collect{t: t}
	n, err := Generate(s, st, c)
	require.NoError(t, err)
	require.Equal(t, 142, n.Reports)
	byStatus := map[schema.ReportStatus]int{}
	for _, r := range c.reports {
		byStatus[r.Status]++
		require.Equal(t, "2022-07", r.SubmittedAt.Format("2006-01"))
	}
	require.Equal(t, 97, byStatus[schema.StatusResolved])
	require.Equal(t, 45, byStatus[schema.StatusReturned])
}

func TestEveryHamletHasA2025Commune(t *testing.T) {
	st, err := BuildStructure(Small())
	require.NoError(t, err)
	valid2025 := map[string]bool{}
	for _, u := range st.Units2025 {
		valid2025[u.Code] = true
	}
	split := map[string]map[string]bool{} // 2022 commune → 2025 communes its hamlets went to
	for _, h := range st.Hamlets {
		to := st.Hamlet2025[h.Code]
		require.True(t, valid2025[to], "hamlet %s maps to unknown 2025 commune %q", h.Code, to)
		if split[h.ParentCode] == nil {
			split[h.ParentCode] = map[string]bool{}
		}
		split[h.ParentCode][to] = true
	}
	// xã Tạ An Khương (32155) was split between Tạ An Khương and Đầm Dơi.
	require.Equal(t, map[string]bool{"32155": true, "32152": true}, split["32155"])
}

func TestGenerationIsDeterministic(t *testing.T) {
	run := func() *collect {
		st, err := BuildStructure(Small())
		require.NoError(t, err)
		c := &collect{t: t}
		_, err = Generate(Small(), st, c)
		require.NoError(t, err)
		return c
	}
	a, b := run(), run()
	require.Equal(t, a.households, b.households)
	require.Equal(t, a.tutoring, b.tutoring)
	require.Equal(t, a.reports, b.reports)
}

func TestScaleErrors(t *testing.T) {
	s := Small()
	s.CommunesWithTeams = 200
	_, err := BuildStructure(s)
	require.ErrorContains(t, err, "1..101")
	s = Small()
	s.To = "2020-01-01"
	_, err = BuildStructure(s)
	require.ErrorContains(t, err, "YYYY-MM-DD")
	s = Small()
	s.Teams = 40
	_, err = BuildStructure(s)
	require.ErrorContains(t, err, "raise HamletsPerCommune")
}

type countSink struct{ Counts }

func (c *countSink) Household(schema.Household) error     { return nil }
func (c *countSink) Visit(schema.Visit) error             { return nil }
func (c *countSink) Tutoring(schema.TutoringRecord) error { return nil }
func (c *countSink) Report(schema.FieldReport) error      { return nil }

func TestProvinceScaleFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1.3 million rows")
	}
	st, err := BuildStructure(Province())
	require.NoError(t, err)
	n, err := Generate(Province(), st, &countSink{})
	require.NoError(t, err)
	require.InDelta(t, 300_000, n.Households, 6000)
	require.InDelta(t, 1_000_000, n.Tutoring, 30_000)
	require.Equal(t, 50_000, n.Reports)
	t.Logf("province: %+v", n)
}

// The example is what leaders judge the product by (issue 21, item 19): a
// report's text and agency belong to its category, never to another, and
// every team is named as the glossary names teams.
func TestExampleDataIsConsistent(t *testing.T) {
	st, err := BuildStructure(Small())
	require.NoError(t, err)
	c := &collect{t: t}
	_, err = Generate(Small(), st, c)
	require.NoError(t, err)
	cats := schema.ReportCategories()
	for _, cat := range cats {
		require.Contains(t, reportKinds, cat.Code, "category %s has no texts of its own", cat.Code)
	}
	require.NotEmpty(t, c.reports)
	for _, r := range c.reports {
		texts, agencies := reportKind(mustCategory(t, r.Category))
		require.Contains(t, texts, r.Description, "report of %s", r.Category)
		for _, other := range cats {
			if other.Code != r.Category {
				require.NotContains(t, strings.ToLower(r.Description), strings.ToLower(other.NameVI), "a %s report about %s", r.Category, other.Code)
			}
		}
		if r.Agency != "" {
			require.Contains(t, agencies, r.Agency, "report of %s", r.Category)
		}
	}
	for _, tm := range st.Teams {
		require.True(t, strings.HasPrefix(tm.Name, i18n.TeamShort.VI+" "), "team %q", tm.Name)
	}
}

func mustCategory(t *testing.T, code string) schema.ReportCategory {
	t.Helper()
	c, ok := schema.ReportCategoryByCode(code)
	require.True(t, ok, code)
	return c
}

package agent_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
	"github.com/hamlet-vn/hamlet/workcal"
)

type leaderTeamRow struct {
	ID                string `json:"id"`
	HouseholdsReached int    `json:"households_reached"`
	Visits            int    `json:"visits"`
	Tutoring          int    `json:"tutoring"`
}

type leaderStats struct {
	HouseholdsReached int             `json:"households_reached"`
	PerTeam           []leaderTeamRow `json:"per_team"`
}

func leaderGet(t *testing.T, s *apitest.Session, path string, v any) {
	t.Helper()
	st, b := s.Do("GET", path, nil)
	require.Equal(t, 200, st, string(b))
	require.NoError(t, json.Unmarshal(b, v), string(b))
}

func teamRowOf(t *testing.T, st leaderStats, team string) leaderTeamRow {
	t.Helper()
	for _, r := range st.PerTeam {
		if r.ID == team {
			return r
		}
	}
	t.Fatalf("no row for team %s in %+v", team, st.PerTeam)
	return leaderTeamRow{}
}

// lastWeek is the period of the last 7 days in Vietnam, as a query and as
// the read model's.
func lastWeek() (string, analytics.Period) {
	today := time.Now().In(workcal.Vietnam)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	p := analytics.Period{From: day.AddDate(0, 0, -7), To: day}
	return "from=" + p.From.Format(time.DateOnly) + "&to=" + p.To.Format(time.DateOnly), p
}

// TestTeamWorkStaysWithTheTeamAfterItsHouseholdMovesToAnotherCommune: a
// volunteer of team A (commune A), offline, logs a visit and a skill taught
// for each of two households of her hamlet. Team B (commune B) meanwhile
// takes one of the households into its hamlet and syncs first; her push is
// taken and her records follow the household (followHouseholds). Team A's
// members recorded 2 visits and 2 tutoring records in the period: that is
// what the server's rows say, what the provincial staff's row of team A
// says, and what commune A's leader must see in team A's row too.
func TestTeamWorkStaysWithTheTeamAfterItsHouseholdMovesToAnotherCommune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	apitest.AddUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
	apitest.AddUser(t, ts.Admin, "tinh", analytics.RoleProvincial, schema.ProvinceCodeCaMau)
	h, g := ts.HamletsA[0], ts.HamletsB[0]

	a, ta := realAgent(t, ts, ts.TeamA)
	stay, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Trần Thị Mai"})
	require.NoError(t, err)
	moves, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Lê Văn Tâm"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// Offline: her work at both households.
	for _, hh := range []syncproto.RowID{stay, moves} {
		_, err = a.AddVisit(ctx, hh, agent.Fields{"notes": "hướng dẫn VNeID"})
		require.NoError(t, err)
		_, err = a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
		require.NoError(t, err)
	}
	tick()
	// Team B takes one household into its hamlet, in commune B.
	mover := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	w := servertest.NewWriter(mover.Replica, time.Now)
	ack, err := mover.Push(1, []syncproto.Change{w.Write("households", moves, schema.ScopeField, syncproto.String(g), h)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	tick()
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	requireNoneRefused(t, a)

	q, p := lastWeek()
	var commune, province leaderStats
	leaderGet(t, apitest.SignIn(t, ts.URL, "xa-a"), "/api/v1/stats?unit="+servertest.CommuneA+"&"+q, &commune)
	leaderGet(t, apitest.SignIn(t, ts.URL, "tinh"), "/api/v1/stats?unit="+schema.ProvinceCodeCaMau+"&"+q, &province)

	// The read model is a fresh load's.
	srv, err := ts.Server.Analytics()
	require.NoError(t, err)
	now := time.Now()
	got, err := srv.TeamStats(ctx, servertest.CommuneA, p, analytics.Weekly, now)
	require.NoError(t, err)
	want, err := analytics.New(ts.Store.AnalyticsSource(), nil).TeamStats(ctx, servertest.CommuneA, p, analytics.Weekly, now)
	require.NoError(t, err)
	require.Equal(t, want.PerTeam, got.PerTeam, "the server's read model is a fresh load's")

	// Independently, from the server's rows: her 2 visits and 2 tutoring
	// records, all by a member of team A.
	n := map[string]int{}
	for _, table := range []string{"visits", "tutoring_records"} {
		require.NoError(t, ts.Store.AnalyticsSource().Load(ctx, table, nil, func(_ string, row map[string]any) error {
			n[table]++
			return nil
		}))
	}
	require.Equal(t, map[string]int{"visits": 2, "tutoring_records": 2}, n, "the server holds her 2 visits and 2 tutoring records")
	pa := teamRowOf(t, province, ts.TeamA)
	require.Equal(t, 2, pa.Visits, "the province's row of team A counts its members' 2 visits")
	require.Equal(t, 2, pa.Tutoring, "the province's row of team A counts its members' 2 tutoring records")

	ca := teamRowOf(t, commune, ts.TeamA)
	require.Equal(t, pa.Visits, ca.Visits, "team A's visits in commune A's statistics (same team, same period as the province's row)")
	require.Equal(t, pa.Tutoring, ca.Tutoring, "team A's tutoring records in commune A's statistics")
}

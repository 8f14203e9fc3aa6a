package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

type statsAnswer struct {
	HouseholdsReached int            `json:"households_reached"`
	ReportsTotal      int            `json:"reports_total"`
	ReportsByStatus   map[string]int `json:"reports_by_status"`
	Trend             []struct {
		Start             string `json:"start"`
		Visits            int    `json:"visits"`
		HouseholdsReached int    `json:"households_reached"`
	} `json:"trend"`
}

func getJSON(t *testing.T, c *apiClient, path string, v any) {
	t.Helper()
	st, b := c.Do("GET", path, nil)
	require.Equal(t, 200, st, string(b))
	require.NoError(t, json.Unmarshal(b, v), string(b))
}

// A report is counted in the period of the day it was submitted in Vietnam
// (periods are Vietnam days), in /api/v1/stats and /api/v1/reports alike:
// 06:00 on 1 October (23:00 UTC on 30 September) is October's; 05:00 on
// 1 November (22:00 UTC on 31 October) is November's.
func TestReportsCountByVietnamDay(t *testing.T) {
	onEachStore(t, nil, func(t *testing.T, ts *servertest.TS) {
		dev := ts.NewDevice(t, ts.TeamA)
		cl := ts.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		early := syncReport(t, ts, cl, w, ictAt(2026, 10, 1, 6), "early October").String()
		late := syncReport(t, ts, cl, w, ictAt(2026, 11, 1, 5), "early November").String()
		leader := login(t, ts.URL, "xa-a")

		ids := func(q string) []string {
			var page struct {
				Reports []struct {
					ID string `json:"id"`
				} `json:"reports"`
			}
			getJSON(t, leader, "/api/v1/reports?"+q, &page)
			var out []string
			for _, v := range page.Reports {
				out = append(out, v.ID)
			}
			return out
		}
		require.Equal(t, []string{early}, ids("from=2026-10-01&to=2026-10-31"), "October's reports")
		require.Equal(t, []string{late}, ids("from=2026-11-01&to=2026-11-30"), "November's reports")

		var oct, nov statsAnswer
		getJSON(t, leader, "/api/v1/stats?from=2026-10-01&to=2026-10-31", &oct)
		getJSON(t, leader, "/api/v1/stats?from=2026-11-01&to=2026-11-30", &nov)
		require.Equal(t, 1, oct.ReportsTotal, "October: the report of 1 October 06:00")
		require.Equal(t, 1, nov.ReportsTotal, "November: the report of 1 November 05:00")
	})
}

// The trend's households reached and the total count the same households:
// one month by month, so its one bucket and the total must be equal. A
// household set inactive after its visit is left out of the total; the
// bucket counted it.
func TestTrendReachedMatchesTotal(t *testing.T) {
	onEachStore(t, nil, func(t *testing.T, ts *servertest.TS) {
		dev := ts.NewDevice(t, ts.TeamA)
		cl := ts.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		hamlet := ts.HamletsA[0]
		var changes []syncproto.Change
		for i, active := range []bool{true, false} {
			hh, v := uuid.New(), uuid.New()
			changes = append(changes, w.Household(hh, hamlet, []string{"Nguyễn Văn A", "Lê Thị B"}[i])...)
			changes = append(changes,
				w.Write("visits", v, schema.ScopeField, syncproto.String(hamlet), hamlet),
				w.Write("visits", v, "household_id", syncproto.String(hh.String()), hamlet),
				w.Write("visits", v, "volunteer_id", syncproto.String(uuid.NewString()), hamlet),
				w.Write("visits", v, "visited_on", syncproto.String("2026-11-10"), hamlet))
			if !active {
				changes = append(changes, w.Write("households", hh, "active", syncproto.Bool(false), hamlet))
			}
		}
		ack, err := cl.Push(w.Seq, changes)
		require.NoError(t, err)
		for _, r := range ack.Results {
			require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
		}
		leader := login(t, ts.URL, "xa-a")
		var st statsAnswer
		getJSON(t, leader, "/api/v1/stats?from=2026-11-01&to=2026-11-30&by=month", &st)
		require.Len(t, st.Trend, 1)
		require.Equal(t, 2, st.Trend[0].Visits)
		require.Equal(t, 1, st.HouseholdsReached, "the inactive household is not counted")
		require.Equal(t, st.HouseholdsReached, st.Trend[0].HouseholdsReached, "the month's bucket and the total count the same households")
	})
}

// A team that lost its hamlets still belongs to its commune: it, its
// members and the visits they recorded in the period stay in the
// commune's team statistics.
func TestTeamWithoutHamletsStaysCounted(t *testing.T) {
	onEachStore(t, nil, func(t *testing.T, ts *servertest.TS) {
		dev := ts.NewDevice(t, ts.TeamA)
		cl := ts.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		hamlet := ts.HamletsA[0]
		hh, v := uuid.New(), uuid.New()
		changes := w.Household(hh, hamlet, "Nguyễn Văn A")
		changes = append(changes,
			w.Write("visits", v, schema.ScopeField, syncproto.String(hamlet), hamlet),
			w.Write("visits", v, "household_id", syncproto.String(hh.String()), hamlet),
			w.Write("visits", v, "volunteer_id", syncproto.String(dev.Enroll.MemberID), hamlet),
			w.Write("visits", v, "visited_on", syncproto.String("2026-11-10"), hamlet))
		ack, err := cl.Push(w.Seq, changes)
		require.NoError(t, err)
		for _, r := range ack.Results {
			require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
		}
		leader := login(t, ts.URL, "xa-a")
		type teamStats struct {
			Teams             int `json:"teams"`
			Members           int `json:"members"`
			CommunesWithTeams int `json:"communes_with_teams"`
			PerTeam           []struct {
				ID     string `json:"id"`
				Visits int    `json:"visits"`
			} `json:"per_team"`
		}
		var before, after teamStats
		getJSON(t, leader, "/api/v1/stats?from=2026-11-01&to=2026-11-30", &before)
		require.Equal(t, 1, before.Teams)
		require.Equal(t, 1, before.CommunesWithTeams)
		require.Len(t, before.PerTeam, 1)
		require.Equal(t, 1, before.PerTeam[0].Visits)
		for _, h := range ts.HamletsA {
			_, err := ts.Admin.RemoveTeamHamlet(t.Context(), ts.TeamA, h)
			require.NoError(t, err)
		}
		getJSON(t, leader, "/api/v1/stats?from=2026-11-01&to=2026-11-30", &after)
		require.Equal(t, before, after, "the team is still commune A's, with its members and their visits")
	})
}

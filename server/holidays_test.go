package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/workcal"
)

var ict = time.FixedZone("ICT", 7*3600)

func ictAt(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, ict) }

// deadlineOf reads a report's deadline from the API as JSON, the way a
// client generated from openapi.yaml would.
func deadlineOf(t *testing.T, c *apiClient, id string) (due time.Time, computedYears []int) {
	t.Helper()
	var v struct {
		Deadline *struct {
			Due           time.Time `json:"due"`
			ComputedYears []int     `json:"computed_years"`
		} `json:"deadline"`
	}
	st, b := c.Do("GET", "/api/v1/reports/"+id, nil)
	require.Equal(t, 200, st, string(b))
	require.NoError(t, json.Unmarshal(b, &v), string(b))
	require.NotNil(t, v.Deadline, string(b))
	return v.Deadline.Due, v.Deadline.ComputedYears
}

// Vietnam's public holidays hold in every year, not only in those of an
// embedded list. A report submitted on a day off waits 12 plain hours for
// dispatch, one submitted on a working day 2 working hours (workcal.Dispatch).
// Years with an official schedule (2024–2026 ship with the server) follow
// it, bridge days and make-up Saturdays included; other years use the
// holidays computed from the Labour Code, and the API and the dashboard say so.
func TestReportDeadlinesFollowPublicHolidays(t *testing.T) {
	cases := []struct {
		name      string
		submitted time.Time
		due       time.Time
		computed  []int
	}{
		{"National Day 2025, a Tuesday", ictAt(2025, 9, 2, 9), ictAt(2025, 9, 2, 21), nil},
		{"its adjacent day, Monday 1 September 2025", ictAt(2025, 9, 1, 9), ictAt(2025, 9, 1, 21), nil},
		{"Friday 2 May 2025, swapped for Saturday 26 April", ictAt(2025, 5, 2, 9), ictAt(2025, 5, 2, 21), nil},
		{"Saturday 26 April 2025, worked instead", ictAt(2025, 4, 26, 9), ictAt(2025, 4, 26, 11), nil},
		{"Wednesday 14 February 2024, Tết in lieu of a weekend day", ictAt(2024, 2, 14, 9), ictAt(2024, 2, 14, 21), nil},
		{"Friday 2 January 2026, swapped for Saturday 10 January", ictAt(2026, 1, 2, 9), ictAt(2026, 1, 2, 21), nil},
		{"Monday 31 August 2026, swapped for Saturday 22 August", ictAt(2026, 8, 31, 9), ictAt(2026, 8, 31, 21), nil},
		{"a working day of 2025", ictAt(2025, 9, 3, 9), ictAt(2025, 9, 3, 11), nil},
		{"2023 has no official schedule: Monday 4 September in lieu of National Day on a Saturday", ictAt(2023, 9, 4, 9), ictAt(2023, 9, 4, 21), []int{2023}},
		{"Wednesday 3 May 2023, in lieu of 30 April on a Sunday", ictAt(2023, 5, 3, 9), ictAt(2023, 5, 3, 21), []int{2023}},
		{"Thursday 26 January 2023, Tết in lieu of a weekend day", ictAt(2023, 1, 26, 9), ictAt(2023, 1, 26, 21), []int{2023}},
		{"a working day of 2023", ictAt(2023, 9, 12, 9), ictAt(2023, 9, 12, 11), []int{2023}},
	}
	onEachStore(t, nil, func(t *testing.T, ts *servertest.TS) {
		dev := ts.NewDevice(t, ts.TeamA)
		cl := ts.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		ids := make([]string, len(cases))
		for i, tc := range cases {
			ids[i] = syncReport(t, ts, cl, w, tc.submitted, "Cống thoát nước bị tắc").String()
		}
		leader := login(t, ts.URL, "xa-a")
		for i, tc := range cases {
			due, computed := deadlineOf(t, leader, ids[i])
			require.True(t, tc.due.Equal(due), "%s: due %s, want %s", tc.name, due.In(ict), tc.due)
			require.Equal(t, tc.computed, computed, tc.name)
		}

		// The dashboard's report list says which deadlines rest on computed
		// holidays, and for which year.
		st, page := webGet(t, leader, "/reports?unit="+servertest.CommuneA)
		require.Equal(t, 200, st)
		require.Equal(t, 4, strings.Count(page, `class="computed-holidays"`), "one notice per 2023 report")
		require.Contains(t, page, "chưa có lịch nghỉ chính thức năm 2023")
	})
}

// The operator imports a year's official schedule into the store: the
// server that imports it, another server on the same store (another
// process, in production: the CLI, or a second server on PostgreSQL) and a
// server started later all compute deadlines with it.
func TestImportedHolidayScheduleTakesEffect(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "workcal", "official", "vn-2025.csv"))
	require.NoError(t, err)
	sched, err := workcal.ParseSchedules(f)
	f.Close()
	require.NoError(t, err)
	// A calendar without the embedded schedules, as a build from before
	// 2025's announcement would have had.
	hoursOnly := func(c *server.Config) {
		cal, err := workcal.Parse(strings.NewReader(`{"working_days":["mon","tue","wed","thu","fri"],"working_hours":[["07:00","11:30"],["13:30","17:00"]]}`))
		require.NoError(t, err)
		c.Calendar = cal
		c.Now = func() time.Time { return fixedNow }
		c.RevokeCheck = 20 * time.Millisecond
	}
	eachStore(t, func(t *testing.T, place func() servertest.Option) {
		a := servertest.Start(t, place(), servertest.WithConfig(hoursOnly))
		addUser(t, a.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
		b := servertest.Start(t, place(), servertest.WithConfig(hoursOnly))
		dev := a.NewDevice(t, a.TeamA)
		cl := a.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		bridge := syncReport(t, a, cl, w, ictAt(2025, 5, 2, 9), "Cây đổ chắn đường").String() // Friday, swapped in 2025
		makeUp := syncReport(t, a, cl, w, ictAt(2025, 4, 26, 9), "Đèn đường hỏng").String()   // Saturday worked for it
		onA, onB := login(t, a.URL, "xa-a"), login(t, b.URL, "xa-a")
		for _, c := range []*apiClient{onA, onB} {
			due, computed := deadlineOf(t, c, bridge)
			require.Equal(t, ictAt(2025, 5, 2, 11), due.In(ict), "before the import 2 May 2025 is a working day")
			require.Equal(t, []int{2025}, computed)
		}

		require.NoError(t, a.Admin.ImportHolidaySchedules(context.Background(), sched))
		due, computed := deadlineOf(t, onA, bridge)
		require.Equal(t, ictAt(2025, 5, 2, 21), due.In(ict), "the importing server at once")
		require.Empty(t, computed)
		due, _ = deadlineOf(t, onA, makeUp)
		require.Equal(t, ictAt(2025, 4, 26, 11), due.In(ict), "Saturday 26 April 2025 was a working day")
		require.Eventually(t, func() bool {
			due, computed := deadlineOf(t, onB, bridge)
			return due.Equal(ictAt(2025, 5, 2, 21)) && len(computed) == 0
		}, 10*time.Second, 20*time.Millisecond, "another server on the store takes it at its next check")

		c := servertest.Start(t, place(), servertest.WithConfig(hoursOnly))
		due, computed = deadlineOf(t, login(t, c.URL, "xa-a"), bridge)
		require.Equal(t, ictAt(2025, 5, 2, 21), due.In(ict), "a server started later loads it")
		require.Empty(t, computed)
		years, err := c.Admin.HolidayYears(context.Background())
		require.NoError(t, err)
		require.Len(t, years, 1)
		require.Equal(t, 2025, years[0].Year)
		require.NotNil(t, years[0].Imported)
		require.Equal(t, sched[0].Note, years[0].Note)
		require.Equal(t, 12, years[0].DaysOff)

		// An incomplete year is refused and changes nothing.
		partial := workcal.Schedule{Year: 2027, Days: []workcal.Day{{Date: "2027-02-06", Kind: workcal.KindHoliday, NameVI: "Tết"}}}
		require.Error(t, a.Admin.ImportHolidaySchedules(context.Background(), []workcal.Schedule{partial}))
		years, err = a.Admin.HolidayYears(context.Background())
		require.NoError(t, err)
		require.Len(t, years, 1)
	})
}

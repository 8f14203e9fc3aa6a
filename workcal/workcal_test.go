package workcal

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Default().Location())
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadlines(t *testing.T) {
	cal := Default()
	cases := []struct {
		name  string
		start string
		rule  Rule
		want  string
	}{
		{"dispatch within the morning", "2026-11-25 08:00", Dispatch, "2026-11-25 10:00"},
		{"dispatch across the lunch break", "2026-11-25 10:30", Dispatch, "2026-11-25 14:30"},
		{"dispatch Friday afternoon runs into Monday", "2026-11-27 16:30", Dispatch, "2026-11-30 08:30"},
		{"arrives before office hours", "2026-11-25 05:00", Dispatch, "2026-11-25 09:00"},
		{"arrives in the evening of a working day", "2026-11-25 20:00", Response, "2026-11-26 11:00"},
		{"Saturday: twelve plain hours", "2026-11-28 09:00", Dispatch, "2026-11-28 21:00"},
		{"Sunday response: twenty-four hours", "2026-11-29 10:00", Response, "2026-11-30 10:00"},
		{"hand-back, one working hour", "2026-11-25 11:00", HandBack, "2026-11-25 14:00"},
		{"feedback on National Day is a day off", "2026-09-02 09:00", Feedback, "2026-09-02 21:00"},
		{"Tết: a weekday holiday counts as a day off", "2026-02-18 08:00", Response, "2026-02-19 08:00"},
		{"the working clock skips Tết entirely", "2026-02-13 16:00", Response, "2026-02-23 10:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, at(tc.want), cal.Deadline(at(tc.start), tc.rule))
		})
	}
}

func TestWorkingTimeBetween(t *testing.T) {
	cal := Default()
	require.Equal(t, 2*time.Hour, cal.WorkingTimeBetween(at("2026-11-27 16:30"), at("2026-11-30 08:30")))
	require.Equal(t, time.Duration(0), cal.WorkingTimeBetween(at("2026-11-28 08:00"), at("2026-11-29 20:00")))
	require.Equal(t, 8*time.Hour, cal.WorkingTimeBetween(at("2026-11-25 00:00"), at("2026-11-26 00:00")))
}

func TestHolidaysOfBothYears(t *testing.T) {
	cal := Default()
	for _, d := range []string{"2026-01-01", "2026-02-17", "2026-04-30", "2026-05-01", "2026-09-02", "2027-02-06", "2027-09-02"} {
		_, ok := cal.Holiday(at(d + " 12:00"))
		require.True(t, ok, d)
		require.False(t, cal.IsWorkingDay(at(d+" 12:00")), d)
	}
	require.True(t, cal.IsWorkingDay(at("2026-11-25 12:00")))
}

func TestParseErrorsSayWhatToFix(t *testing.T) {
	cases := map[string]string{
		`{"working_days":["mon"],"working_hours":[["09:00","08:00"]]}`:                                  "end after the start",
		`{"working_days":["monday"],"working_hours":[["07:00","11:00"]]}`:                               "use mon, tue",
		`{"working_days":[],"working_hours":[["07:00","11:00"]]}`:                                       "no working_days",
		`{"working_days":["mon"],"working_hours":[["07:00","11:00"]],"holidays":[{"date":"1/9/2026"}]}`: "YYYY-MM-DD",
		`{"working_days":["mon"],"working_hours":[["07:00","11:00"],["10:00","12:00"]]}`:                "overlap",
		`{"workdays":["mon"]}`: "must be JSON with",
	}
	for in, want := range cases {
		_, err := Parse(strings.NewReader(in))
		require.ErrorContains(t, err, want, in)
	}
}

func TestExtraWorkingDay(t *testing.T) {
	cal, err := New(File{WorkingDays: []string{"mon", "tue", "wed", "thu", "fri"}, WorkingHours: [][2]string{{"08:00", "12:00"}},
		ExtraWorkingDays: []Day{{Date: "2026-11-28"}}})
	require.NoError(t, err)
	require.True(t, cal.IsWorkingDay(at("2026-11-28 09:00")))
	require.Equal(t, at("2026-11-28 10:00"), cal.Deadline(at("2026-11-28 08:00"), Dispatch))
}

// FuzzParse: a calendar file either fails with an error that says what to
// fix, or gives a calendar whose deadlines never fall before their start
// and whose working time adds up: the time AddWorkingHours adds is the
// working time WorkingTimeBetween counts back.
func FuzzParse(f *testing.F) {
	def, err := os.ReadFile("default.json")
	require.NoError(f, err)
	f.Add(def)
	f.Add([]byte(`{"working_days":["mon","sat"],"working_hours":[["08:00","12:00"]],"holidays":[{"date":"2026-01-01","kind":"holiday"}],"extra_working_days":[{"date":"2026-01-03"}]}`))
	f.Add([]byte(`{"timezone":"UTC","working_days":["sun"],"working_hours":[["00:00","23:59"]]}`))
	f.Add([]byte(`{"working_days":["mon"],"working_hours":[["13:30","17:00"],["07:00","11:30"]]}`))
	f.Add([]byte(`{"working_days":[],"working_hours":[]}`))
	starts := []time.Time{time.Date(2026, 2, 13, 16, 0, 0, 0, Vietnam), time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(bytes.NewReader(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "calendar") && !strings.HasPrefix(err.Error(), "read calendar") {
				t.Fatalf("the error does not say it is the calendar's: %v", err)
			}
			return
		}
		for _, start := range starts {
			for _, r := range []Rule{Dispatch, Response, HandBack, Feedback} {
				if d := c.Deadline(start, r); d.Before(start) {
					t.Fatalf("%s deadline %s before its start %s", r.Name, d, start)
				}
			}
			end := c.AddWorkingHours(start, 2*time.Hour)
			got := c.WorkingTimeBetween(start, end)
			if got > end.Sub(start) || got < 0 {
				t.Fatalf("working time %s between %s and %s", got, start, end)
			}
			if c.Location() == Vietnam && end.Before(start.AddDate(1, 0, 0)) && got != 2*time.Hour {
				t.Fatalf("AddWorkingHours added 2h, WorkingTimeBetween counts %s (%s to %s)", got, start, end)
			}
		}
	})
}

// A calendar names Vietnam's zone or none: any other is refused with what to
// write, and reading one never reads the system's zone files.
func TestCalendarZoneIsVietnams(t *testing.T) {
	for _, tz := range []string{"", "Asia/Ho_Chi_Minh", "Asia/Saigon", "UTC+7"} {
		c, err := Parse(strings.NewReader(`{"timezone":"` + tz + `","working_days":["mon"],"working_hours":[["08:00","17:00"]]}`))
		require.NoError(t, err, tz)
		require.Equal(t, Vietnam, c.loc, tz)
	}
	for _, tz := range []string{"UTC", "Europe/Paris", "Nowhere/Atlantis"} {
		_, err := Parse(strings.NewReader(`{"timezone":"` + tz + `","working_days":["mon"],"working_hours":[["08:00","17:00"]]}`))
		require.ErrorContains(t, err, "Asia/Ho_Chi_Minh", tz)
	}
}

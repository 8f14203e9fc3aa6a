package workcal

import (
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

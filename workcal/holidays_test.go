package workcal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ymd(t time.Time) string { return t.Format(time.DateOnly) }

// Tết in Vietnam, reckoned at UTC+7. Where China's date differs (its
// calendar is reckoned at UTC+8), it is noted: the difference is why the
// time zone is part of the algorithm.
func TestLunarNewYear(t *testing.T) {
	cases := map[int]string{
		1968: "1968-01-29", // China: 30 January (the South, then at UTC+8, kept it then too)
		1985: "1985-01-21", // China: 20 February
		2000: "2000-02-05",
		2007: "2007-02-17", // China: 18 February
		2019: "2019-02-05",
		2020: "2020-01-25",
		2021: "2021-02-12",
		2022: "2022-02-01",
		2023: "2023-01-22",
		2024: "2024-02-10",
		2025: "2025-01-29",
		2026: "2026-02-17",
		2027: "2027-02-06",
		2028: "2028-01-26",
		2029: "2029-02-13",
		// The new moon is at 16:08 UTC on 2 February 2030: 23:08 in Hanoi,
		// 00:08 on 3 February in Beijing. China's Tết is the 3rd.
		2030: "2030-02-02",
		2031: "2031-01-23",
		2032: "2032-02-11",
		2033: "2033-01-31",
	}
	for y, want := range cases {
		require.Equal(t, want, ymd(Tet(y)), "Tết %d", y)
		tt := Tet(y)
		require.Equal(t, LunarDate{Year: y, Month: 1, Day: 1}, SolarToLunar(tt.Year(), int(tt.Month()), tt.Day()))
		eve := tt.AddDate(0, 0, -1)
		ld := SolarToLunar(eve.Year(), int(eve.Month()), eve.Day())
		require.Equal(t, 12, ld.Month, "the eve of Tết %d is in the 12th month", y)
		require.Contains(t, []int{29, 30}, ld.Day)
	}
}

func TestHungKingsDay(t *testing.T) {
	for y, want := range map[int]string{2020: "2020-04-02", 2021: "2021-04-21", 2022: "2022-04-10", 2023: "2023-04-29",
		2024: "2024-04-18", 2025: "2025-04-07", 2026: "2026-04-26", 2027: "2027-04-16"} {
		require.Equal(t, want, ymd(HungKings(y)), "%d", y)
	}
}

// Every day from 1900 to 2199 converts to a lunar date and back; months
// have 29 or 30 days; a year has 12 months, or 13 with one leap month.
func TestLunarCalendarRoundTrip(t *testing.T) {
	leapMonth := map[int]int{}
	d := date(1900, time.February, 1)
	end := date(2199, time.December, 31)
	prev := SolarToLunar(d.Year(), int(d.Month()), d.Day())
	monthLen := -1 // the first month is seen from its middle
	for d = d.AddDate(0, 0, 1); !d.After(end); d = d.AddDate(0, 0, 1) {
		ld := SolarToLunar(d.Year(), int(d.Month()), d.Day())
		y, m, dd, ok := LunarToSolar(ld)
		require.True(t, ok, "%s → %+v", ymd(d), ld)
		require.Equal(t, ymd(d), ymd(date(y, time.Month(m), dd)), "%+v", ld)
		if ld.Day == 1 {
			if monthLen >= 0 {
				require.Contains(t, []int{29, 30}, monthLen, "lunar month ending %s", ymd(d.AddDate(0, 0, -1)))
			}
			monthLen = 0
			if ld.Leap {
				require.Zero(t, leapMonth[ld.Year], "two leap months in %d", ld.Year)
				leapMonth[ld.Year] = ld.Month
				require.Equal(t, prev.Month, ld.Month, "a leap month repeats the month before it")
			}
		} else {
			require.Equal(t, prev.Day+1, ld.Day, ymd(d))
		}
		if monthLen >= 0 {
			monthLen++
		}
		prev = ld
	}
	// Leap months as Vietnam's calendars print them.
	require.Equal(t, 4, leapMonth[2020])
	require.Equal(t, 2, leapMonth[2023])
	require.Equal(t, 6, leapMonth[2025])
	_, _, _, ok := LunarToSolar(LunarDate{Year: 2024, Month: 6, Day: 1, Leap: true})
	require.False(t, ok, "2024 has no leap month")
}

// The statutory holidays of any year: eleven days (Labour Code 2019, art.
// 112), the fixed ones where the law puts them, Tết around the lunar new
// year, and a day next to National Day.
func TestStatutoryHolidaysEveryYear(t *testing.T) {
	var coincide []int
	for y := MinYear; y <= MaxYear; y++ {
		days := Statutory(y)
		if len(days) == 10 {
			coincide = append(coincide, y)
		} else {
			require.Len(t, days, 11, "%d", y)
		}
		set := map[string]bool{}
		for _, d := range days {
			require.True(t, strings.HasPrefix(d.Date, fmt.Sprint(y)), "%d: %s", y, d.Date)
			require.Equal(t, KindHoliday, d.Kind)
			require.NotEmpty(t, d.NameVI)
			require.NotEmpty(t, d.NameEN)
			set[d.Date] = true
		}
		require.Len(t, set, len(days), "%d: no day twice", y)
		require.True(t, slices.IsSortedFunc(days, func(a, b Day) int { return strings.Compare(a.Date, b.Date) }))
		tet := Tet(y)
		for _, want := range []time.Time{date(y, 1, 1), tet.AddDate(0, 0, -2), tet.AddDate(0, 0, -1), tet, tet.AddDate(0, 0, 1), tet.AddDate(0, 0, 2),
			HungKings(y), date(y, 4, 30), date(y, 5, 1), date(y, 9, 2)} {
			require.True(t, set[ymd(want)], "%d: %s", y, ymd(want))
		}
		require.True(t, set[fmt.Sprintf("%d-09-01", y)] != set[fmt.Sprintf("%d-09-03", y)], "%d: one day next to National Day", y)
		require.NoError(t, CheckSchedule(Schedule{Year: y, Days: days}), "%d", y)
	}
	t.Logf("years whose Hùng Kings' day is 30 April or 1 May: %v", coincide)
	require.Less(t, len(coincide), 10)
}

// The computed days in lieu follow article 111(3): a holiday on a weekly
// rest day gives the next working day that is not itself a holiday.
func TestComputedDaysInLieu(t *testing.T) {
	cal := computedOnly(t)
	cases := []struct {
		year int
		want []string // the computed days off that fall on working days of the week
	}{
		// 2023: Tết Sunday 22 January; 29 April (Hùng Kings) a Saturday and
		// 30 April a Sunday; 2 September a Saturday. As the government's
		// 2023 schedule: 20–26 January, 29 April–3 May, 1–4 September.
		{2023, []string{"2023-01-02", "2023-01-20", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26",
			"2023-05-01", "2023-05-02", "2023-05-03", "2023-09-01", "2023-09-04"}},
		// 2027: Tết Saturday 6 February, 1 May a Saturday.
		{2027, []string{"2027-01-01", "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
			"2027-04-16", "2027-04-30", "2027-05-03", "2027-09-02", "2027-09-03"}},
	}
	for _, tc := range cases {
		days, computed := cal.Holidays(tc.year)
		require.True(t, computed)
		var got []string
		for _, d := range days {
			tm, _ := time.Parse(time.DateOnly, d.Date)
			if cal.workdays[tm.Weekday()] {
				got = append(got, d.Date)
			}
		}
		require.Equal(t, tc.want, got, "%d", tc.year)
		for _, d := range tc.want {
			require.False(t, cal.IsWorkingDay(at(d+" 10:00")), d)
		}
	}
}

func readSchedule(t *testing.T, path string) Schedule {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := ParseSchedules(f)
	require.NoError(t, err, path)
	require.Len(t, s, 1)
	return s[0]
}

func computedOnly(t *testing.T) *Calendar {
	t.Helper()
	cal, err := Parse(bytes.NewReader(defaultCalendar))
	require.NoError(t, err)
	require.Empty(t, cal.Schedules())
	return cal
}

// The government's schedules of 2024, 2025 and 2026 against the computed
// holidays: every working day the law gives off is off in both, and the
// schedules differ only by their bridge days and the Saturdays worked for
// them. So a year without a schedule is wrong by at most its bridge days.
func TestComputedHolidaysAgainstOfficialSchedules(t *testing.T) {
	cal := computedOnly(t)
	for _, year := range []int{2024, 2025, 2026} {
		s := readSchedule(t, filepath.Join("official", fmt.Sprintf("vn-%d.csv", year)))
		require.Equal(t, year, s.Year)
		require.NotEmpty(t, s.Note, "a schedule says where it comes from")
		official := map[string]bool{}
		var bridges, workdays []string
		for _, d := range s.Days {
			tm, _ := time.Parse(time.DateOnly, d.Date)
			switch {
			case d.Kind == KindBridge:
				bridges = append(bridges, d.Date)
			case d.Kind == KindWorkday:
				workdays = append(workdays, d.Date)
			case cal.workdays[tm.Weekday()]:
				official[d.Date] = true
			}
		}
		computed := map[string]bool{}
		days, _ := cal.Holidays(year)
		for _, d := range days {
			tm, _ := time.Parse(time.DateOnly, d.Date)
			if cal.workdays[tm.Weekday()] {
				computed[d.Date] = true
			}
		}
		require.Equal(t, official, computed, "%d: working days off, bridges aside", year)
		require.Len(t, workdays, len(bridges), "%d: each bridge day is worked on a Saturday", year)
	}
}

func TestEmbeddedSchedules(t *testing.T) {
	var years []int
	for _, s := range OfficialSchedules() {
		years = append(years, s.Year)
	}
	require.Equal(t, []int{2024, 2025, 2026}, years)
	cal := Default()
	require.True(t, cal.HasSchedule(2025))
	require.False(t, cal.HasSchedule(2027))
	require.Equal(t, []int{2027}, cal.ComputedYears(at("2026-12-31 16:00"), at("2027-01-04 09:00")))
	require.Empty(t, cal.ComputedYears(at("2025-12-31 16:00"), at("2026-01-05 09:00")))
}

// Issue 13: a report on 2 September 2025 at 09:00 was due at 11:00, as if
// National Day were a working day. With or without the official schedule
// it is a day off: twelve plain hours.
func TestNationalDay2025IsADayOff(t *testing.T) {
	for name, cal := range map[string]*Calendar{"official": Default(), "computed": computedOnly(t)} {
		require.Equal(t, at("2025-09-02 21:00"), cal.Deadline(at("2025-09-02 09:00"), Dispatch), name)
		name, ok := cal.Holiday(at("2025-09-02 09:00"))
		require.True(t, ok)
		require.Contains(t, name, "Quốc khánh")
	}
	// Only the official schedule knows the bridge day of 2 May 2025 and the
	// Saturday worked for it.
	require.Equal(t, at("2025-05-02 21:00"), Default().Deadline(at("2025-05-02 09:00"), Dispatch))
	require.Equal(t, at("2025-04-26 11:00"), Default().Deadline(at("2025-04-26 09:00"), Dispatch))
	require.Equal(t, at("2025-05-02 11:00"), computedOnly(t).Deadline(at("2025-05-02 09:00"), Dispatch))
}

func TestScheduleFileErrorsSayWhatToFix(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("official", "vn-2025.csv"))
	require.NoError(t, err)
	without := func(line string) string {
		require.Contains(t, string(valid), line+"\n")
		return strings.Replace(string(valid), line+"\n", "", 1)
	}
	cases := []struct {
		name, in, vi, en string
	}{
		{"empty", "", "tệp trống", "the file is empty"},
		{"wrong header", "date,name\n2025-01-01,x\n", "dòng tiêu đề phải là date,kind,name_vi,name_en", "line 1: the header must be"},
		{"bad date", "date,kind,name_vi,name_en\n1/9/2025,holiday,Quốc khánh,\n", "dòng 2: ngày \"1/9/2025\"", "YYYY-MM-DD"},
		{"unknown kind", "date,kind,name_vi,name_en\n2025-09-02,off,Quốc khánh,\n", "loại ngày \"off\"", "use holiday, in_lieu, bridge or workday"},
		{"no name", "date,kind,name_vi,name_en\n2025-09-02,holiday,,\n", "thiếu tên ngày", "no name"},
		{"columns", "date,kind,name_vi,name_en\n2025-09-02,holiday,Quốc khánh\n", "cần 4 cột", "want 4 columns"},
		{"twice", string(valid) + "2025-09-02,holiday,Quốc khánh,\n", "đã có ở dòng", "listed twice"},
		{"workday on a weekday", string(valid) + "2025-09-03,workday,Làm bù,\n", "thứ Tư: ngày làm bù", "is a Wednesday"},
		{"bridge on a Sunday", string(valid) + "2025-09-07,bridge,Nghỉ,\n", "Chủ nhật: ngày nghỉ bù", "is a Sunday"},
		{"out of range", "date,kind,name_vi,name_en\n2300-09-02,holiday,Quốc khánh,\n", "nằm ngoài 1900–2199", "outside"},
		{"a holiday left out", without("2025-04-30,holiday,\"Ngày Chiến thắng (Giải phóng miền Nam, thống nhất đất nước)\",Reunification Day"),
			"lịch năm 2025 thiếu ngày lễ 2025-04-30", "the 2025 schedule lacks the holiday 2025-04-30"},
		{"Tết cut short", without("2025-01-27,holiday,Tết Nguyên đán (28 tháng Chạp),Lunar New Year (year's end)"),
			"có 4 ngày lễ Tết Nguyên đán", "has 4 Lunar New Year holidays"},
		{"no day next to National Day", without("2025-09-01,holiday,Quốc khánh (ngày liền kề),National Day (adjacent day)"),
			"thiếu ngày liền kề Quốc khánh", "lacks the day next to National Day"},
		{"only Tết's announcement", "date,kind,name_vi,name_en\n2025-01-29,holiday,Tết,\n", "thiếu ngày lễ 2025-01-01", "lacks the holiday 2025-01-01"},
		{"too large", "date,kind,name_vi,name_en\n" + strings.Repeat("# padding\n", 120_000), "tệp quá lớn", "too large"},
		{"bad CSV", "date,kind,name_vi,name_en\n\"2025-01-01,holiday\n", "không đọc được CSV", "not valid CSV"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSchedules(strings.NewReader(tc.in))
			require.Error(t, err)
			var se *ScheduleError
			require.ErrorAs(t, err, &se)
			require.Contains(t, se.Message("vi"), tc.vi)
			require.Contains(t, se.Message("en"), tc.en)
		})
	}
}

// A file of several years, with a BOM and the note before the header.
func TestScheduleFileRoundTrip(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("\ufeff")
	for _, y := range []int{2024, 2026} {
		b, err := os.ReadFile(filepath.Join("official", fmt.Sprintf("vn-%d.csv", y)))
		require.NoError(t, err)
		if y != 2024 {
			// one header per file: drop the second's note and header
			b = b[bytes.Index(b, []byte("\n2026-")):]
		}
		in.Write(b)
	}
	ss, err := ParseSchedules(&in)
	require.NoError(t, err)
	require.Len(t, ss, 2)
	require.Equal(t, 2024, ss[0].Year)
	require.Equal(t, 2026, ss[1].Year)
	require.Contains(t, ss[1].Note, "Official 2024", "the note is the file's")
	var out bytes.Buffer
	require.NoError(t, WriteSchedule(&out, ss[0]))
	back, err := ParseSchedules(&out)
	require.NoError(t, err)
	require.Equal(t, ss[:1], back)
	off, work := ss[0].DaysOff()
	require.Equal(t, 14, off)
	require.Equal(t, 1, work)
}

// An operator's import replaces a year while deadlines are computed.
func TestSetSchedulesWhileReading(t *testing.T) {
	cal := computedOnly(t)
	s := readSchedule(t, filepath.Join("official", "vn-2025.csv"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			start := at("2025-05-02 09:00")
			for range 100 {
				due := cal.Deadline(start, Dispatch)
				assert.True(t, due.Equal(start.Add(2*time.Hour)) || due.Equal(start.Add(12*time.Hour)), "%s", due) // t.FailNow is for the test's goroutine
			}
		})
	}
	cal.SetSchedules(s)
	wg.Wait()
	require.Equal(t, at("2025-05-02 21:00"), cal.Deadline(at("2025-05-02 09:00"), Dispatch))
	cal.FillSchedules(Schedule{Year: 2025, Days: Statutory(2025)})
	require.Equal(t, s.Note, cal.Schedules()[0].Note, "FillSchedules keeps a year already in force")
}

func FuzzParseSchedules(f *testing.F) {
	for _, y := range []int{2024, 2025, 2026} {
		b, err := os.ReadFile(filepath.Join("official", fmt.Sprintf("vn-%d.csv", y)))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("date,kind,name_vi,name_en\n2025-01-01,holiday,x,y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := ParseSchedules(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, s := range ss {
			require.NoError(t, CheckSchedule(s))
			var out bytes.Buffer
			require.NoError(t, WriteSchedule(&out, s))
			back, err := ParseSchedules(&out)
			require.NoError(t, err, out.String())
			require.Equal(t, []Schedule{s}, back)
		}
	})
}

// BenchmarkDeadline is one report's deadline, as the read model computes
// it for every open report of a list: a year with an official schedule,
// and one with computed holidays (made once, then cached).
func BenchmarkDeadline(b *testing.B) {
	cal := Default()
	for _, start := range []string{"2026-02-13 16:00", "2027-02-03 16:00"} {
		b.Run(start[:4], func(b *testing.B) {
			t0 := at(start)
			for b.Loop() {
				cal.Deadline(t0, Response)
				cal.ComputedYears(t0, t0)
			}
		})
	}
}

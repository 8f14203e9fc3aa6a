package workcal

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// Schedule is one year's official schedule of days off, as the government
// announces it for cán bộ, công chức, viên chức (the Monday-to-Friday
// week): every public holiday, every day in lieu, every bridge day, and
// every weekend day worked to make one up. A year with a schedule follows
// it exactly; a year without one uses Statutory's computed holidays.
type Schedule struct {
	Year int
	// Note says where the schedule comes from (the file's comment lines).
	Note string
	Days []Day // in date order
}

// DaysOff counts the schedule's days off; Workdays its make-up working days.
func (s Schedule) DaysOff() (off, workdays int) {
	for _, d := range s.Days {
		if d.Kind.dayOff() {
			off++
		} else {
			workdays++
		}
	}
	return off, workdays
}

// ScheduleError is a schedule file that cannot be used, with a message for
// the operator in Vietnamese and English. Line is the file's line (0 when
// the whole year is at fault).
type ScheduleError struct {
	Line         int
	MsgVI, MsgEN string
}

func (e *ScheduleError) Error() string { return e.Message("en") }

// Message is the error in lang ("vi" or "en").
func (e *ScheduleError) Message(lang string) string {
	msg, at := e.MsgVI, "dòng"
	if lang == "en" {
		msg, at = e.MsgEN, "line"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s %d: %s", at, e.Line, msg)
	}
	return msg
}

// schedErr formats both messages with the same arguments.
func schedErr(line int, vi, en string, args ...any) *ScheduleError {
	return &ScheduleError{Line: line, MsgVI: sprintf(vi, args...), MsgEN: sprintf(en, args...)}
}

// sprintf is fmt.Sprintf under another name: vet would take schedErr's
// second format for its only one.
var sprintf = fmt.Sprintf

// scheduleHeader is the header row of a schedule file (see README.md).
var scheduleHeader = []string{"date", "kind", "name_vi", "name_en"}

// maxScheduleDays bounds a file: a year has some twenty days off.
const maxScheduleDays = 1000

// ParseSchedules reads a schedule file: UTF-8 CSV, comment lines starting
// with '#' (those before the header become each schedule's Note), the
// header date,kind,name_vi,name_en, then one row per day. A file may hold
// several years; each year it names must list all of that year's days off
// (CheckSchedule), or nothing is read.
func ParseSchedules(r io.Reader) ([]Schedule, error) {
	// encoding/csv drops comment lines, so the note is read from the text
	// first; schedule files are small.
	const maxBytes = 1 << 20
	raw, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read holiday schedule: %w", err)
	}
	if len(raw) > maxBytes {
		return nil, schedErr(0, "tệp quá lớn (tối đa 1 MiB)", "the file is too large (at most 1 MiB)")
	}
	text := strings.TrimPrefix(string(raw), "\ufeff")
	var note []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		note = append(note, strings.TrimSpace(strings.TrimPrefix(line, "#")))
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, schedErr(0, "tệp trống: dòng tiêu đề phải là %s", "the file is empty: the header must be %s", strings.Join(scheduleHeader, ","))
	}
	if err != nil {
		return nil, csvErr(err)
	}
	if !slices.Equal(head, scheduleHeader) {
		line, _ := cr.FieldPos(0)
		return nil, schedErr(line, "dòng tiêu đề phải là %s", "the header must be %s", strings.Join(scheduleHeader, ","))
	}
	byYear := map[int]*Schedule{}
	seen := map[string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		if n >= maxScheduleDays {
			return nil, schedErr(line, "tệp quá dài (tối đa %d ngày)", "the file is too long (at most %d days)", maxScheduleDays)
		}
		if len(rec) != len(scheduleHeader) {
			return nil, schedErr(line, "cần %d cột (%s), có %d", "want %d columns (%s), got %d", len(scheduleHeader), strings.Join(scheduleHeader, ","), len(rec))
		}
		d := Day{Date: strings.TrimSpace(rec[0]), Kind: Kind(strings.TrimSpace(rec[1])), NameVI: strings.TrimSpace(rec[2]), NameEN: strings.TrimSpace(rec[3])}
		t, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			return nil, schedErr(line, "ngày %q: viết dạng NĂM-THÁNG-NGÀY, ví dụ 2025-09-02", "date %q: write it as YYYY-MM-DD, e.g. 2025-09-02", d.Date)
		}
		if t.Year() < MinYear || t.Year() > MaxYear {
			return nil, schedErr(line, "năm %d nằm ngoài %d–%d", "year %d is outside %d–%d", t.Year(), MinYear, MaxYear)
		}
		if !d.Kind.valid() {
			return nil, schedErr(line, "loại ngày %q: dùng holiday (ngày lễ), in_lieu (nghỉ bù), bridge (nghỉ hoán đổi) hoặc workday (ngày làm bù)",
				"kind %q: use holiday, in_lieu, bridge or workday", string(d.Kind))
		}
		if d.NameVI == "" {
			return nil, schedErr(line, "thiếu tên ngày (name_vi)", "the day has no name (name_vi)")
		}
		if prev, ok := seen[d.Date]; ok {
			return nil, schedErr(line, "ngày %s đã có ở dòng %d", "%s is listed twice (also line %d)", d.Date, prev)
		}
		seen[d.Date] = line
		weekend := t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
		switch {
		case d.Kind == KindWorkday && !weekend:
			return nil, &ScheduleError{Line: line,
				MsgVI: fmt.Sprintf("%s là %s: ngày làm bù (workday) phải là thứ Bảy hoặc Chủ nhật", d.Date, weekdayVI[t.Weekday()]),
				MsgEN: fmt.Sprintf("%s is a %s: a make-up working day (workday) is a Saturday or Sunday", d.Date, t.Weekday())}
		case (d.Kind == KindInLieu || d.Kind == KindBridge) && weekend:
			return nil, &ScheduleError{Line: line,
				MsgVI: fmt.Sprintf("%s là %s: ngày nghỉ bù hoặc nghỉ hoán đổi phải là ngày làm việc (thứ Hai đến thứ Sáu)", d.Date, weekdayVI[t.Weekday()]),
				MsgEN: fmt.Sprintf("%s is a %s: a day in lieu or bridge day is a working day (Monday to Friday)", d.Date, t.Weekday())}
		}
		s := byYear[t.Year()]
		if s == nil {
			s = &Schedule{Year: t.Year(), Note: strings.Join(note, "\n")}
			byYear[t.Year()] = s
		}
		s.Days = append(s.Days, d)
	}
	if len(byYear) == 0 {
		return nil, schedErr(0, "tệp không có ngày nào", "the file lists no day")
	}
	var out []Schedule
	for _, s := range byYear {
		sortDays(s.Days)
		if err := CheckSchedule(*s); err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Schedule) int { return a.Year - b.Year })
	return out, nil
}

var weekdayVI = [7]string{"Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return schedErr(pe.Line, "không đọc được CSV: %v", "not valid CSV: %v", pe.Err)
	}
	return fmt.Errorf("read holiday schedule: %w", err)
}

// CheckSchedule refuses a year's schedule that leaves out a public holiday
// of the Labour Code: New Year's Day, the first three days of Tết and five
// Tết days in all, the Hùng Kings' day, 30 April, 1 May, 2 September and a
// day next to it. A schedule is the year's whole list: importing only an
// announcement about Tết would make every other holiday a working day.
func CheckSchedule(s Schedule) error {
	holiday := map[string]bool{}
	for _, d := range s.Days {
		if d.Kind == KindHoliday {
			holiday[d.Date] = true
		}
	}
	y := s.Year
	need := func(t time.Time, vi, en string) error {
		if holiday[t.Format(time.DateOnly)] {
			return nil
		}
		return schedErr(0, "lịch năm %d thiếu ngày lễ %s (%s): mỗi năm phải liệt kê đủ mọi ngày nghỉ, kể cả ngày lễ cố định",
			"the %d schedule lacks the holiday %s (%s): a year's schedule lists every day off, fixed holidays included", y, t.Format(time.DateOnly), vi, en)
	}
	tet := Tet(y)
	for _, c := range []struct {
		t      time.Time
		vi, en string
	}{
		{date(y, time.January, 1), "Tết Dương lịch", "New Year's Day"},
		{tet, "mùng 1 Tết", "Lunar New Year, day 1"},
		{tet.AddDate(0, 0, 1), "mùng 2 Tết", "Lunar New Year, day 2"},
		{tet.AddDate(0, 0, 2), "mùng 3 Tết", "Lunar New Year, day 3"},
		{HungKings(y), "Giỗ Tổ Hùng Vương", "Hung Kings' Commemoration"},
		{date(y, time.April, 30), "30 tháng 4", "30 April"},
		{date(y, time.May, 1), "1 tháng 5", "1 May"},
		{date(y, time.September, 2), "Quốc khánh", "National Day"},
	} {
		if err := need(c.t, c.vi, c.en); err != nil {
			return err
		}
	}
	n := 0
	for i := -7; i <= 7; i++ {
		if holiday[tet.AddDate(0, 0, i).Format(time.DateOnly)] {
			n++
		}
	}
	if n < 5 {
		return schedErr(0, "lịch năm %d có %d ngày lễ Tết Nguyên đán (loại holiday) quanh %s, luật quy định 5 ngày",
			"the %d schedule has %d Lunar New Year holidays (kind holiday) around %s; the law gives five", y, n, tet.Format(time.DateOnly))
	}
	if !holiday[date(y, time.September, 1).Format(time.DateOnly)] && !holiday[date(y, time.September, 3).Format(time.DateOnly)] {
		return schedErr(0, "lịch năm %d thiếu ngày liền kề Quốc khánh (%d-09-01 hoặc %d-09-03)",
			"the %d schedule lacks the day next to National Day (%d-09-01 or %d-09-03)", y, y, y)
	}
	return nil
}

// WriteSchedule writes s in the file form ParseSchedules reads.
func WriteSchedule(w io.Writer, s Schedule) error {
	for _, line := range strings.Split(s.Note, "\n") {
		if line == "" {
			continue
		}
		if _, err := fmt.Fprintf(w, "# %s\n", line); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(scheduleHeader); err != nil {
		return err
	}
	for _, d := range s.Days {
		if err := cw.Write([]string{d.Date, string(d.Kind), d.NameVI, d.NameEN}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func sortDays(days []Day) {
	slices.SortFunc(days, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
}

//go:embed official/*.csv
var officialFS embed.FS

// OfficialSchedules are the official schedules this build ships (the
// files in official/, see README.md), by year. Operators add later years
// with `hamlet-server calendar import FILE`.
func OfficialSchedules() []Schedule {
	entries, err := officialFS.ReadDir("official")
	if err != nil {
		panic(fmt.Sprintf("workcal: embedded schedules: %v", err)) // a build defect, caught by tests
	}
	var out []Schedule
	for _, e := range entries {
		f, err := officialFS.Open(path.Join("official", e.Name()))
		if err != nil {
			panic(fmt.Sprintf("workcal: embedded schedule %s: %v", e.Name(), err))
		}
		s, err := ParseSchedules(f)
		f.Close()
		if err != nil {
			panic(fmt.Sprintf("workcal: embedded schedule %s: %v", e.Name(), err))
		}
		out = append(out, s...)
	}
	slices.SortFunc(out, func(a, b Schedule) int { return a.Year - b.Year })
	return out
}

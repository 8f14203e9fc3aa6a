package workcal

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed default.json
var defaultCalendar []byte

// Calendar knows which days are working days and which hours of them count.
// It is safe for concurrent use, SetSchedules included.
type Calendar struct {
	loc      *time.Location
	workdays [7]bool
	periods  []period // minutes after midnight, sorted, non-overlapping

	official atomic.Pointer[map[int]*yearDays] // by year; replaced whole by SetSchedules
	computed sync.Map                          // year → *yearDays, made on first use
}

type period struct{ from, to int }

// yearDays is one year's exceptions to the working week, by dayKey.
type yearDays struct {
	off      map[int]string // days off → Vietnamese name
	work     map[int]string // weekly rest days worked
	schedule *Schedule      // the official schedule, nil when computed
}

func dayKey(y int, m time.Month, d int) int { return y*10000 + int(m)*100 + d }

// File is the JSON form of a calendar: the working week and office hours,
// and optionally days off (the years they fall in then follow this list
// alone, as an official schedule does).
type File struct {
	// Timezone must be Vietnam's: "Asia/Ho_Chi_Minh" (UTC+7, no DST);
	// empty means the same.
	Timezone string `json:"timezone"`
	// WorkingDays lists weekdays as "mon".."sun".
	WorkingDays []string `json:"working_days"`
	// WorkingHours lists office periods as ["07:00","11:30"].
	WorkingHours [][2]string `json:"working_hours"`
	Holidays     []Day       `json:"holidays,omitempty"`
	// ExtraWorkingDays are days off made working days (compensation for a bridge holiday).
	ExtraWorkingDays []Day `json:"extra_working_days,omitempty"`
}

// Day is one dated entry.
type Day struct {
	Date   string `json:"date"` // YYYY-MM-DD
	Kind   Kind   `json:"kind,omitempty"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Vietnam is Vietnam's time zone, UTC+7 without daylight saving since 1975,
// fixed so that no machine's zoneinfo database (absent on many Windows
// PCs) can change what a deadline or an exported time says.
var Vietnam = time.FixedZone("ICT", 7*3600)

// Default is Vietnam's calendar: Monday to Friday, 07:00–11:30 and
// 13:30–17:00 in Asia/Ho_Chi_Minh, the official schedules this build ships
// (OfficialSchedules) and the computed public holidays of every other year.
func Default() *Calendar {
	c, err := Parse(bytes.NewReader(defaultCalendar))
	if err != nil {
		panic(fmt.Sprintf("workcal: embedded calendar is invalid: %v", err)) // a build defect, caught by tests
	}
	c.SetSchedules(OfficialSchedules()...)
	return c
}

// Parse reads a calendar file. Errors say which entry is wrong and how.
func Parse(r io.Reader) (*Calendar, error) {
	var f File
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read calendar: %w (the file must be JSON with timezone, working_days, working_hours, holidays)", err)
	}
	return New(f)
}

// New builds a calendar from its file form. It holds no official schedule
// but the file's own days off: add the embedded ones with FillSchedules.
func New(f File) (*Calendar, error) {
	tz := f.Timezone
	if tz == "" {
		tz = "Asia/Ho_Chi_Minh"
	}
	// Vietnam's public holidays and working hours only make sense in
	// Vietnam's time; the zone is fixed (UTC+7, no DST) so reading a
	// calendar never reads the system's zone files.
	switch tz {
	case "Asia/Ho_Chi_Minh", "Asia/Saigon", "UTC+7", "+07:00":
	default:
		return nil, fmt.Errorf("calendar timezone %q: Hamlet's calendar is Vietnam's: write \"Asia/Ho_Chi_Minh\" (UTC+7)", tz)
	}
	loc := Vietnam
	c := &Calendar{loc: loc}
	c.official.Store(&map[int]*yearDays{})
	if len(f.WorkingDays) == 0 {
		return nil, fmt.Errorf("calendar has no working_days: list them, e.g. [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]")
	}
	for _, d := range f.WorkingDays {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			return nil, fmt.Errorf("calendar working day %q: use mon, tue, wed, thu, fri, sat or sun", d)
		}
		c.workdays[wd] = true
	}
	if len(f.WorkingHours) == 0 {
		return nil, fmt.Errorf("calendar has no working_hours: list periods, e.g. [[\"07:00\",\"11:30\"],[\"13:30\",\"17:00\"]]")
	}
	for i, p := range f.WorkingHours {
		from, err1 := clock(p[0])
		to, err2 := clock(p[1])
		if err1 != nil || err2 != nil || to <= from {
			return nil, fmt.Errorf("calendar working_hours[%d] %q–%q: use HH:MM with the end after the start", i, p[0], p[1])
		}
		c.periods = append(c.periods, period{from, to})
	}
	sort.Slice(c.periods, func(i, j int) bool { return c.periods[i].from < c.periods[j].from })
	for i := 1; i < len(c.periods); i++ {
		if c.periods[i].from < c.periods[i-1].to {
			return nil, fmt.Errorf("calendar working_hours overlap at %s", f.WorkingHours[i][0])
		}
	}
	byYear := map[int]*Schedule{}
	for _, set := range []struct {
		days []Day
		kind Kind
		what string
	}{{f.Holidays, KindHoliday, "holiday"}, {f.ExtraWorkingDays, KindWorkday, "extra working day"}} {
		for _, d := range set.days {
			t, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				return nil, fmt.Errorf("calendar %s %q: dates are YYYY-MM-DD", set.what, d.Date)
			}
			if d.Kind == "" || set.kind == KindWorkday {
				d.Kind = set.kind
			}
			if !d.Kind.valid() || !d.Kind.dayOff() && set.kind == KindHoliday {
				return nil, fmt.Errorf("calendar %s %s: kind %q: use holiday, in_lieu or bridge", set.what, d.Date, d.Kind)
			}
			s := byYear[t.Year()]
			if s == nil {
				s = &Schedule{Year: t.Year(), Note: "calendar file"}
				byYear[t.Year()] = s
			}
			s.Days = append(s.Days, d)
		}
	}
	var scheds []Schedule
	for _, s := range byYear {
		sortDays(s.Days)
		scheds = append(scheds, *s)
	}
	c.SetSchedules(scheds...)
	return c, nil
}

// Clone is a calendar like c whose schedules change apart from c's.
func (c *Calendar) Clone() *Calendar {
	n := &Calendar{loc: c.loc, workdays: c.workdays, periods: slices.Clone(c.periods)}
	n.official.Store(c.official.Load()) // never modified in place: shared safely
	return n
}

// SetSchedules puts official schedules in force, each replacing the one of
// its year, if any.
func (c *Calendar) SetSchedules(s ...Schedule) {
	c.setSchedules(s, true)
}

// FillSchedules puts in force those of s whose year has no official
// schedule yet (the embedded ones under a calendar file's own).
func (c *Calendar) FillSchedules(s ...Schedule) {
	c.setSchedules(s, false)
}

func (c *Calendar) setSchedules(s []Schedule, replace bool) {
	for {
		old := c.official.Load()
		next := make(map[int]*yearDays, len(*old)+len(s))
		for y, d := range *old {
			next[y] = d
		}
		for _, sc := range s {
			if _, ok := next[sc.Year]; ok && !replace {
				continue
			}
			sc.Days = slices.Clone(sc.Days)
			yd := &yearDays{off: map[int]string{}, work: map[int]string{}, schedule: &sc}
			for _, d := range sc.Days {
				t, err := time.Parse(time.DateOnly, d.Date)
				if err != nil || t.Year() != sc.Year {
					continue // ParseSchedules and New refuse these
				}
				if d.Kind.dayOff() {
					yd.off[dayKey(t.Date())] = d.NameVI
				} else {
					yd.work[dayKey(t.Date())] = d.NameVI
				}
			}
			next[sc.Year] = yd
		}
		if c.official.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Schedules are the official schedules in force, by year.
func (c *Calendar) Schedules() []Schedule {
	m := *c.official.Load()
	out := make([]Schedule, 0, len(m))
	for _, yd := range m {
		out = append(out, *yd.schedule)
	}
	slices.SortFunc(out, func(a, b Schedule) int { return a.Year - b.Year })
	return out
}

// HasSchedule reports whether year y follows an official schedule.
func (c *Calendar) HasSchedule(y int) bool {
	_, ok := (*c.official.Load())[y]
	return ok
}

// ComputedYears lists the years from a to b (in the calendar's zone) that
// have no official schedule, so their days off are the computed statutory
// holidays: what a deadline between a and b rests on.
func (c *Calendar) ComputedYears(a, b time.Time) []int {
	ya, yb := a.In(c.loc).Year(), b.In(c.loc).Year()
	if yb < ya {
		ya, yb = yb, ya
	}
	var out []int
	for y := ya; y <= yb && y <= ya+20; y++ {
		if !c.HasSchedule(y) {
			out = append(out, y)
		}
	}
	return out
}

// year is year y's days off and make-up days: the official schedule's,
// else the computed statutory holidays with their days in lieu.
func (c *Calendar) year(y int) *yearDays {
	if yd, ok := (*c.official.Load())[y]; ok {
		return yd
	}
	if yd, ok := c.computed.Load(y); ok {
		return yd.(*yearDays)
	}
	yd := &yearDays{off: map[int]string{}}
	if y >= MinYear && y <= MaxYear {
		for _, d := range withDaysInLieu(Statutory(y), c.workdays) {
			t, _ := time.Parse(time.DateOnly, d.Date)
			yd.off[dayKey(t.Date())] = d.NameVI
		}
	}
	v, _ := c.computed.LoadOrStore(y, yd)
	return v.(*yearDays)
}

// Holidays are year y's days off beyond the weekly rest days, and the
// weekly rest days worked instead, in date order: the official schedule's
// or, without one, the computed ones (computed is then true).
func (c *Calendar) Holidays(y int) (days []Day, computed bool) {
	if yd, ok := (*c.official.Load())[y]; ok {
		return slices.Clone(yd.schedule.Days), false
	}
	if y < MinYear || y > MaxYear {
		return nil, true
	}
	return withDaysInLieu(Statutory(y), c.workdays), true
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday returns the Vietnamese name of the day off t falls on, if any
// (weekly rest days aside).
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	lt := t.In(c.loc)
	n, ok := c.year(lt.Year()).off[dayKey(lt.Date())]
	return n, ok
}

// IsWorkingDay reports whether t's date (in the calendar's zone) is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	lt := t.In(c.loc)
	yd, k := c.year(lt.Year()), dayKey(lt.Date())
	if _, ok := yd.work[k]; ok {
		return true
	}
	if _, ok := yd.off[k]; ok {
		return false
	}
	return c.workdays[lt.Weekday()]
}

// AddWorkingHours returns the instant when d of working time has elapsed
// after start, counting only office periods of working days.
func (c *Calendar) AddWorkingHours(start time.Time, d time.Duration) time.Time {
	t := start.In(c.loc)
	left := d
	for day := 0; day < 3700; day++ { // ten years: a calendar with no working time ends the loop
		if c.IsWorkingDay(t) {
			midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
			for _, p := range c.periods {
				ps, pe := midnight.Add(time.Duration(p.from)*time.Minute), midnight.Add(time.Duration(p.to)*time.Minute)
				if !t.Before(pe) {
					continue
				}
				if t.Before(ps) {
					t = ps
				}
				if avail := pe.Sub(t); left <= avail {
					return t.Add(left)
				} else {
					left -= avail
					t = pe
				}
			}
		}
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return t
}

// WorkingTimeBetween is the working time elapsed from a to b (zero if b is before a).
func (c *Calendar) WorkingTimeBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	t := a.In(c.loc)
	for t.Before(b) {
		if c.IsWorkingDay(t) {
			midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
			for _, p := range c.periods {
				ps, pe := midnight.Add(time.Duration(p.from)*time.Minute), midnight.Add(time.Duration(p.to)*time.Minute)
				s, e := maxTime(ps, t), minTime(pe, b)
				if e.After(s) {
					total += e.Sub(s)
				}
			}
		}
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Rule is one deadline of the field-report workflow: so many working hours
// when the clock starts on a working day, so many plain hours on a day off.
type Rule struct {
	Name    string
	Working time.Duration
	DayOff  time.Duration
}

// The deadlines of Cà Mau's field-report regulation (the province's seed
// 002).
var (
	// Dispatch: the portal receives a report and dispatches it to an agency.
	Dispatch = Rule{Name: "dispatch", Working: 2 * time.Hour, DayOff: 12 * time.Hour}
	// Response: the agency responds to the report.
	Response = Rule{Name: "response", Working: 4 * time.Hour, DayOff: 24 * time.Hour}
	// HandBack: an agency returns a report outside its jurisdiction for re-dispatch.
	HandBack = Rule{Name: "hand_back", Working: 1 * time.Hour, DayOff: 12 * time.Hour}
	// Feedback: the result is fed back to the resident.
	Feedback = Rule{Name: "feedback", Working: 2 * time.Hour, DayOff: 12 * time.Hour}
)

// Deadline is when a step that started at start must be done under rule.
func (c *Calendar) Deadline(start time.Time, rule Rule) time.Time {
	if c.IsWorkingDay(start) {
		return c.AddWorkingHours(start, rule.Working)
	}
	return start.Add(rule.DayOff)
}

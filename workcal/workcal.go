package workcal

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

//go:embed vn-2026-2027.json
var defaultCalendar []byte

// Calendar knows which days are working days and which hours of them count.
type Calendar struct {
	loc      *time.Location
	workdays [7]bool
	periods  []period // minutes after midnight, sorted, non-overlapping
	holidays map[string]string
	extra    map[string]string // weekend days worked to make up a bridge holiday
}

type period struct{ from, to int }

// File is the JSON form of a calendar.
type File struct {
	// Timezone is an IANA name; Vietnam is "Asia/Ho_Chi_Minh" (UTC+7, no DST).
	Timezone string `json:"timezone"`
	// WorkingDays lists weekdays as "mon".."sun".
	WorkingDays []string `json:"working_days"`
	// WorkingHours lists office periods as ["07:00","11:30"].
	WorkingHours [][2]string `json:"working_hours"`
	Holidays     []Day       `json:"holidays"`
	// ExtraWorkingDays are days off made working days (compensation for a bridge holiday).
	ExtraWorkingDays []Day `json:"extra_working_days"`
}

// Day is one dated entry.
type Day struct {
	Date   string `json:"date"` // YYYY-MM-DD
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Default is the embedded calendar: Monday to Friday, 07:00–11:30 and
// 13:30–17:00 in Asia/Ho_Chi_Minh, with Vietnam's public holidays of 2026 and 2027.
func Default() *Calendar {
	c, err := Parse(bytes.NewReader(defaultCalendar))
	if err != nil {
		panic(fmt.Sprintf("workcal: embedded calendar is invalid: %v", err)) // a build defect, caught by tests
	}
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

// New builds a calendar from its file form.
func New(f File) (*Calendar, error) {
	tz := f.Timezone
	if tz == "" {
		tz = "Asia/Ho_Chi_Minh"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		// Windows machines may lack the zoneinfo database; Vietnam has had
		// UTC+7 without daylight saving since 1975.
		if tz != "Asia/Ho_Chi_Minh" {
			return nil, fmt.Errorf("calendar timezone %q: %w", tz, err)
		}
		loc = time.FixedZone("ICT", 7*3600)
	}
	c := &Calendar{loc: loc, holidays: map[string]string{}, extra: map[string]string{}}
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
	for _, set := range []struct {
		days []Day
		into map[string]string
		what string
	}{{f.Holidays, c.holidays, "holiday"}, {f.ExtraWorkingDays, c.extra, "extra working day"}} {
		for _, d := range set.days {
			if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
				return nil, fmt.Errorf("calendar %s %q: dates are YYYY-MM-DD", set.what, d.Date)
			}
			set.into[d.Date] = d.NameVI
		}
	}
	return c, nil
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

// Holiday returns the holiday's Vietnamese name if t falls on one.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	n, ok := c.holidays[t.In(c.loc).Format(time.DateOnly)]
	return n, ok
}

// IsWorkingDay reports whether t's date (in the calendar's zone) is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	d := t.In(c.loc).Format(time.DateOnly)
	if _, ok := c.extra[d]; ok {
		return true
	}
	if _, ok := c.holidays[d]; ok {
		return false
	}
	return c.workdays[t.In(c.loc).Weekday()]
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

// The deadlines of Cà Mau's field-report regulation (seed 002, DESIGN.md).
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

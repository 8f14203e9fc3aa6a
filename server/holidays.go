package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/workcal"
)

// HolidayStore keeps the official holiday schedules the operator imports
// (hamlet-server calendar import), so every server process on the store
// computes deadlines with them. Both stores implement it.
type HolidayStore interface {
	// PutHolidaySchedules replaces the schedule of each year given, in one
	// transaction.
	PutHolidaySchedules(ctx context.Context, s []workcal.Schedule, at time.Time) error
	// HolidaySchedules lists the imported schedules by year.
	HolidaySchedules(ctx context.Context) ([]StoredSchedule, error)
}

// StoredSchedule is an imported schedule and when it was imported.
type StoredSchedule struct {
	workcal.Schedule
	Imported time.Time
}

// loadHolidays puts the store's imported schedules in force over the
// calendar's own (embedded, or from the calendar file). It returns whether
// anything changed since the last load.
func (s *Server) loadHolidays(ctx context.Context) (bool, error) {
	stored, err := s.store.HolidaySchedules(ctx)
	if err != nil {
		return false, fmt.Errorf("load holiday schedules: %w", err)
	}
	mark := make([]int64, 0, 2*len(stored))
	for _, st := range stored {
		mark = append(mark, int64(st.Year), st.Imported.UnixNano())
	}
	s.holMu.Lock()
	defer s.holMu.Unlock()
	if slices.Equal(mark, s.holMark) {
		return false, nil
	}
	sched := make([]workcal.Schedule, len(stored))
	for i, st := range stored {
		sched[i] = st.Schedule
	}
	s.cfg.Calendar.SetSchedules(sched...)
	s.holMark = mark
	return true, nil
}

// checkHolidays takes the schedules imported by another process (the
// operator's CLI, another server on the same PostgreSQL) within
// Config.RevokeCheck.
func (s *Server) checkHolidays(ctx context.Context) {
	changed, err := s.loadHolidays(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("check holiday schedules", LogErr, err)
		}
		return
	}
	if changed {
		s.log.Info("holiday schedules changed in the store: deadlines now use them")
	}
}

// ImportHolidaySchedules stores official schedules (workcal.ParseSchedules
// output), each replacing its year's, and puts them in force at once on
// this server; other servers on the store take them at their next check.
func (a *Admin) ImportHolidaySchedules(ctx context.Context, s []workcal.Schedule) error {
	for _, sc := range s {
		if err := workcal.CheckSchedule(sc); err != nil {
			return err
		}
	}
	if err := a.s.store.PutHolidaySchedules(ctx, s, a.s.now()); err != nil {
		return fmt.Errorf("import holiday schedules: %w", err)
	}
	_, err := a.s.loadHolidays(ctx)
	return err
}

// HolidayYear is a year that follows an official schedule.
type HolidayYear struct {
	Year int `json:"year"`
	// Imported is when the operator imported it; nil for a schedule that
	// came with the build or the calendar file.
	Imported *time.Time `json:"imported,omitempty"`
	Note     string     `json:"note"`
	DaysOff  int        `json:"days_off"`
	Workdays int        `json:"workdays"`
}

// HolidayYears lists the years whose deadlines follow an official
// schedule; every other year uses the computed statutory holidays.
func (a *Admin) HolidayYears(ctx context.Context) ([]HolidayYear, error) {
	imported := map[int]time.Time{}
	stored, err := a.s.store.HolidaySchedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list holiday schedules: %w", err)
	}
	for _, st := range stored {
		imported[st.Year] = st.Imported
	}
	var out []HolidayYear
	for _, sc := range a.s.cfg.Calendar.Schedules() {
		hy := HolidayYear{Year: sc.Year, Note: sc.Note}
		hy.DaysOff, hy.Workdays = sc.DaysOff()
		if at, ok := imported[sc.Year]; ok {
			at = at.UTC()
			hy.Imported = &at
		}
		out = append(out, hy)
	}
	return out, nil
}

// Holidays are year y's days off and make-up working days as deadlines
// count them; computed is true when y has no official schedule.
func (a *Admin) Holidays(y int) (days []workcal.Day, computed bool) {
	return a.s.cfg.Calendar.Holidays(y)
}

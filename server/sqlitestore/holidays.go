package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/workcal"
)

var _ server.HolidayStore = (*Store)(nil)

func (s *Store) PutHolidaySchedules(ctx context.Context, scheds []workcal.Schedule, at time.Time) error {
	return s.write(ctx, func(w *writeTx) error {
		for _, sc := range scheds {
			if _, err := w.exec(`DELETE FROM holiday_days WHERE year = ?`, sc.Year); err != nil {
				return fmt.Errorf("replace holiday schedule %d: %w", sc.Year, err)
			}
			if _, err := w.exec(`INSERT INTO holiday_years (year, note, imported_ms) VALUES (?, ?, ?)
				ON CONFLICT (year) DO UPDATE SET note = excluded.note, imported_ms = excluded.imported_ms`, sc.Year, sc.Note, at.UnixMilli()); err != nil {
				return fmt.Errorf("store holiday schedule %d: %w", sc.Year, err)
			}
			for _, d := range sc.Days {
				if _, err := w.exec(`INSERT INTO holiday_days (day, year, kind, name_vi, name_en) VALUES (?, ?, ?, ?, ?)`,
					d.Date, sc.Year, string(d.Kind), d.NameVI, d.NameEN); err != nil {
					return fmt.Errorf("store holiday schedule %d: day %s: %w", sc.Year, d.Date, err)
				}
			}
		}
		return nil
	})
}

func (s *Store) HolidaySchedules(ctx context.Context) ([]server.StoredSchedule, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT y.year, y.note, y.imported_ms, d.day, d.kind, d.name_vi, d.name_en
		FROM holiday_years y LEFT JOIN holiday_days d ON d.year = y.year ORDER BY y.year, d.day`)
	if err != nil {
		return nil, fmt.Errorf("read holiday schedules: %w", err)
	}
	defer rows.Close()
	var out []server.StoredSchedule
	for rows.Next() {
		var year int
		var note string
		var ms int64
		var date, kind, vi, en sql.NullString
		if err := rows.Scan(&year, &note, &ms, &date, &kind, &vi, &en); err != nil {
			return nil, fmt.Errorf("read holiday schedules: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Year != year {
			out = append(out, server.StoredSchedule{Schedule: workcal.Schedule{Year: year, Note: note}, Imported: time.UnixMilli(ms).UTC()})
		}
		if date.Valid {
			last := &out[len(out)-1]
			last.Days = append(last.Days, workcal.Day{Date: date.String, Kind: workcal.Kind(kind.String), NameVI: vi.String, NameEN: en.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read holiday schedules: %w", err)
	}
	return out, nil
}

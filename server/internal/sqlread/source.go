package sqlread

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hamlet-vn/hamlet/schema"

	"github.com/hamlet-vn/hamlet/server/analytics"
)

// Source reads the read model's inputs (analytics.Source) from the tables
// every Hamlet store has: schema's row and admin tables, and the server's
// sync_log, sync_log_floor and devices. Each store gives one over its own
// read pool (Store.AnalyticsSource). Rebind turns '?' placeholders into
// the driver's (nil for SQLite).
type Source struct {
	DB     *sql.DB
	Rebind func(string) string
	// MaxIncremental is the number of log entries above which a refresh
	// reloads everything instead (0: 200,000).
	MaxIncremental int
}

var _ analytics.Source = (*Source)(nil)

func (s *Source) q(query string) string {
	if s.Rebind != nil {
		return s.Rebind(query)
	}
	return query
}

// columns are what put reads, per table.
var columns = map[string][]string{
	"households":       {"hamlet_code", "active"},
	"visits":           {"household_id", "visited_on", "volunteer_id"},
	"tutoring_records": {"household_id", "taught_on", "volunteer_id", "skill", "outcome"},
	"field_reports": {"hamlet_code", "category", "status", "submitted_at", "dispatched_at", "resolved_at", "agency",
		"status_reason", "description", "location", "reporter_name", "reporter_phone", "consent_disclose", "satisfaction", "volunteer_id",
		"photo_digests"},
}

// Head is the highest seq in the log, or the log floor when collection
// removed the entries above that: a model loaded then must not count as
// behind the floor (Changed).
func (s *Source) Head(ctx context.Context) (uint64, error) {
	var head, floor int64
	err := s.DB.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM sync_log),
		(SELECT COALESCE(MAX(seq), 0) FROM sync_log_floor)`).Scan(&head, &floor)
	return uint64(max(head, floor)), err
}

func (s *Source) Changed(ctx context.Context, after uint64) ([]analytics.Ref, uint64, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return nil, 0, err
	}
	if head <= after {
		return nil, after, nil
	}
	limit := s.MaxIncremental
	if limit == 0 {
		limit = 200_000
	}
	if head-after > uint64(limit) {
		return nil, 0, analytics.ErrResync
	}
	rows, err := s.DB.QueryContext(ctx, s.q("SELECT DISTINCT tbl, row FROM sync_log WHERE seq > ? AND seq <= ? AND kind = 0"), int64(after), int64(head))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var refs []analytics.Ref
	for rows.Next() {
		var tbl string
		var id []byte
		if err := rows.Scan(&tbl, &id); err != nil {
			return nil, 0, err
		}
		u, err := uuid.FromBytes(id)
		if err != nil {
			return nil, 0, fmt.Errorf("log row id of %d bytes: %w", len(id), err)
		}
		refs = append(refs, analytics.Ref{Table: tbl, ID: u.String()})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	// Collection removes every entry of a row it drops, the tombstone
	// included, and raises the floor past them (sync_log_floor): a model
	// that had not read that far would keep the row as it last saw it, so
	// it reloads, as a device below the floor clones again. Read after the
	// entries, so a collection that removed some of them is seen. The
	// floor under every hamlet ('*', server.EveryHamlet) removed nothing:
	// it marks where versions' bases were cleared.
	var floor int64
	if err := s.DB.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM sync_log_floor WHERE scope <> '*'").Scan(&floor); err != nil {
		return nil, 0, err
	}
	if uint64(floor) > after {
		return nil, 0, analytics.ErrResync
	}
	return refs, head, nil
}

func (s *Source) Load(ctx context.Context, table string, ids []string, fn func(string, map[string]any) error) error {
	cols, ok := columns[table]
	if !ok {
		return fmt.Errorf("analytics does not read table %q", table)
	}
	query := fmt.Sprintf("SELECT id, _deleted, %s FROM %s", strings.Join(cols, ", "), table)
	var args []any
	if ids != nil {
		if len(ids) == 0 {
			return nil
		}
		query += " WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.DB.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols)+2)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	// One map for every row: fn may not keep it (Source.Load).
	row := make(map[string]any, len(cols)+1)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		id, _ := vals[0].(string)
		row[schema.DeletedField] = sqliteValue(vals[1])
		for i, c := range cols {
			row[c] = sqliteValue(vals[i+2])
		}
		if err := fn(id, row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sqliteValue gives a column's value the type SQLite's driver gives it, so
// the read model sees the same on every store: text as string, booleans
// (PostgreSQL's) as 0 or 1.
func sqliteValue(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

var _ analytics.UnitsVersioner = (*Source)(nil)

// UnitsVersion is the count triggers keep of the changes to admin_units and
// admin_unit_predecessors (both stores' migration units_version).
func (s *Source) UnitsVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.DB.QueryRowContext(ctx, `SELECT version FROM admin_units_version WHERE id = 1`).Scan(&v)
	return v, err
}

func (s *Source) Units(ctx context.Context) ([]schema.AdminUnit, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT code, name, type, level, COALESCE(parent_code, ''), COALESCE(retired_on, '') FROM admin_units")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var units []schema.AdminUnit
	at := map[string]int{}
	for rows.Next() {
		var u schema.AdminUnit
		var level string
		if err := rows.Scan(&u.Code, &u.Name, &u.Type, &level, &u.ParentCode, &u.RetiredOn); err != nil {
			return nil, err
		}
		u.Level = schema.Level(level)
		at[u.Code] = len(units)
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	preds, err := s.DB.QueryContext(ctx, "SELECT code, predecessor_code, CASE WHEN partial THEN 1 ELSE 0 END FROM admin_unit_predecessors")
	if err != nil {
		return nil, err
	}
	defer preds.Close()
	for preds.Next() {
		var code, pred string
		var partial int64
		if err := preds.Scan(&code, &pred, &partial); err != nil {
			return nil, err
		}
		if i, ok := at[code]; ok {
			units[i].FormedFrom = append(units[i].FormedFrom, schema.Predecessor{Code: pred, Partial: partial != 0})
		}
		if i, ok := at[pred]; ok && units[i].RetiredOn != "" {
			units[i].SuccessorCodes = append(units[i].SuccessorCodes, code)
		}
	}
	return units, preds.Err()
}

func (s *Source) Teams(ctx context.Context) ([]analytics.Team, error) {
	var teams []analytics.Team
	at := map[string]int{}
	rows, err := s.DB.QueryContext(ctx, "SELECT id, name, commune_code FROM teams ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t analytics.Team
		if err := rows.Scan(&t.ID, &t.Name, &t.CommuneCode); err != nil {
			return nil, err
		}
		at[t.ID] = len(teams)
		teams = append(teams, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	hs, err := s.DB.QueryContext(ctx, "SELECT team_id, hamlet_code FROM team_hamlets ORDER BY team_id, hamlet_code")
	if err != nil {
		return nil, err
	}
	defer hs.Close()
	for hs.Next() {
		var team, hamlet string
		if err := hs.Scan(&team, &hamlet); err != nil {
			return nil, err
		}
		if i, ok := at[team]; ok {
			teams[i].Hamlets = append(teams[i].Hamlets, hamlet)
		}
	}
	if err := hs.Err(); err != nil {
		return nil, err
	}
	ms, err := s.DB.QueryContext(ctx, `SELECT m.id, m.team_id, m.role, COALESCE(MAX(d.last_seen_ms), 0)
		FROM members m LEFT JOIN devices d ON d.member_id = m.id GROUP BY m.id, m.team_id, m.role ORDER BY m.id`)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	for ms.Next() {
		var m analytics.Member
		var team string
		var last int64
		if err := ms.Scan(&m.ID, &team, &m.Role, &last); err != nil {
			return nil, err
		}
		if last > 0 {
			m.LastSync = time.UnixMilli(last)
		}
		if i, ok := at[team]; ok {
			teams[i].Members = append(teams[i].Members, m)
		}
	}
	return teams, ms.Err()
}

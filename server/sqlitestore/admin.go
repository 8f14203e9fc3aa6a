package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// ImportUnits persists schema.PlanUnitImport's plan in one transaction: the
// plan decides which units a reorganised tree retires, the store only writes.
// A hamlet that exists keeps its commune: a reorganisation moved it there
// keeping its code (ReparentHamlets), and hamlet rows imported again (a
// rename, a loader's 2022 hamlets) must not move it back.
func (s *Store) ImportUnits(ctx context.Context, units []schema.AdminUnit) error {
	return s.ImportUnitsMarking(ctx, units, nil)
}

// ImportUnitsMarking imports units as ImportUnits does and, in the same
// transaction, marks the enabled accounts bound to changed as awaiting
// confirmation (unit_changed_on: the plan's RetiredOn, if not set yet): an
// import that fails marks no one.
func (s *Store) ImportUnitsMarking(ctx context.Context, units []schema.AdminUnit, changed []string) error {
	plan, err := schema.PlanUnitImport(units)
	if err != nil {
		return fmt.Errorf("import units: %w", err)
	}
	return s.write(ctx, func(w *writeTx) error {
		if err := markUnitChanged(w, changed, plan.RetiredOn); err != nil {
			return err
		}
		for _, u := range plan.Units {
			var parent, retired any
			if u.ParentCode != "" {
				parent = u.ParentCode
			}
			if u.RetiredOn != "" {
				retired = u.RetiredOn
			}
			if _, err := w.exec(`INSERT INTO admin_units (code, name, type, level, parent_code, retired_on) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, level = excluded.level,
				parent_code = CASE WHEN admin_units.level = 'hamlet' AND excluded.level = 'hamlet' AND admin_units.parent_code IS NOT NULL
					THEN admin_units.parent_code ELSE excluded.parent_code END,
				retired_on = excluded.retired_on`,
				u.Code, u.Name, u.Type, string(u.Level), parent, retired); err != nil {
				return fmt.Errorf("import unit %s: %w", u.Code, err)
			}
		}
		for _, l := range plan.Links {
			if _, err := w.exec(`INSERT INTO admin_unit_predecessors (code, predecessor_code, partial) VALUES (?, ?, ?)
				ON CONFLICT (code, predecessor_code) DO UPDATE SET partial = excluded.partial`, l.Code, l.Predecessor, l.Partial); err != nil {
				return fmt.Errorf("import unit %s: predecessor %s: %w", l.Code, l.Predecessor, err)
			}
		}
		for _, code := range plan.Retire {
			if _, err := w.exec(`UPDATE admin_units SET retired_on = COALESCE(retired_on, ?) WHERE code = ?`, plan.RetiredOn, code); err != nil {
				return fmt.Errorf("retire unit %s: %w", code, err)
			}
		}
		if plan.RetireDistricts {
			if _, err := w.exec(`UPDATE admin_units SET retired_on = COALESCE(retired_on, ?) WHERE level = 'district'`, plan.RetiredOn); err != nil {
				return fmt.Errorf("retire districts: %w", err)
			}
		}
		return nil
	})
}

// Units lists units of a level (all levels if ""), under parent if not "".
func (s *Store) Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error) {
	q := `SELECT code, name, type, level, COALESCE(parent_code, ''), COALESCE(retired_on, '') FROM admin_units WHERE 1 = 1`
	var args []any
	if level != "" {
		q += ` AND level = ?`
		args = append(args, string(level))
	}
	if parent != "" {
		q += ` AND parent_code = ?`
		args = append(args, parent)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY code`, args...)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	var out []schema.AdminUnit
	for rows.Next() {
		var u schema.AdminUnit
		var lvl string
		if err := rows.Scan(&u.Code, &u.Name, &u.Type, &lvl, &u.ParentCode, &u.RetiredOn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list units: %w", err)
		}
		u.Level = schema.Level(lvl)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	prows, err := s.rdb.QueryContext(ctx, `SELECT code, predecessor_code, partial FROM admin_unit_predecessors ORDER BY code, predecessor_code`)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	defer prows.Close()
	var links []schema.UnitLink
	for prows.Next() {
		var l schema.UnitLink
		if err := prows.Scan(&l.Code, &l.Predecessor, &l.Partial); err != nil {
			return nil, fmt.Errorf("list units: %w", err)
		}
		links = append(links, l)
	}
	if err := prows.Err(); err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	schema.LinkUnits(out, links)
	return out, nil
}

// UnitNames are the names of the units of codes (AdminStore): one
// statement of one text whatever their number, the codes as a JSON array.
func (s *Store) UnitNames(ctx context.Context, codes []string) (map[string]string, error) {
	out := make(map[string]string, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(codes)
	if err != nil {
		return nil, fmt.Errorf("unit names: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT code, name FROM admin_units WHERE code IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("unit names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, fmt.Errorf("unit names: %w", err)
		}
		out[code] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unit names: %w", err)
	}
	return out, nil
}

func (s *Store) CreateTeam(ctx context.Context, t server.Team) error {
	return s.write(ctx, func(w *writeTx) error {
		if _, err := w.exec(`INSERT INTO teams (id, commune_code, name) VALUES (?, ?, ?)`, t.ID, t.CommuneCode, t.Name); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("create team %s: %w", t.ID, server.ErrConflict)
			}
			return fmt.Errorf("create team: %w", err)
		}
		for _, h := range t.Hamlets {
			if _, err := w.exec(`INSERT INTO team_hamlets (team_id, hamlet_code) VALUES (?, ?)`, t.ID, h); err != nil {
				return fmt.Errorf("create team: hamlet %s: %w", h, err)
			}
		}
		return nil
	})
}

func (s *Store) Teams(ctx context.Context) ([]server.Team, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT t.id, t.commune_code, t.name, COALESCE(GROUP_CONCAT(th.hamlet_code, ','), '')
		FROM teams t LEFT JOIN team_hamlets th ON th.team_id = t.id GROUP BY t.id ORDER BY t.commune_code, t.name, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []server.Team
	for rows.Next() {
		var t server.Team
		var hs string
		if err := rows.Scan(&t.ID, &t.CommuneCode, &t.Name, &hs); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if hs != "" {
			t.Hamlets = strings.Split(hs, ",")
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) AddMember(ctx context.Context, m server.Member) error {
	return s.write(ctx, func(w *writeTx) error {
		if _, err := w.Team(m.TeamID); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		var phone any
		if m.Phone != "" {
			phone = m.Phone
		}
		if _, err := w.exec(`INSERT INTO members (id, team_id, name, role, phone) VALUES (?, ?, ?, ?, ?)`, m.ID, m.TeamID, m.Name, m.Role, phone); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		return nil
	})
}

func (s *Store) Member(ctx context.Context, id string) (server.Member, error) {
	var m server.Member
	err := s.rdb.QueryRowContext(ctx, `SELECT id, team_id, name, role, COALESCE(phone, '') FROM members WHERE id = ?`, id).
		Scan(&m.ID, &m.TeamID, &m.Name, &m.Role, &m.Phone)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("member %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("member %s: %w", id, err)
	}
	return m, nil
}

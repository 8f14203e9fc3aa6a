package pgstore

import (
	"context"
	"fmt"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// ImportUnits persists schema.PlanUnitImport's plan in one transaction, as
// the SQLite store does: the plan decides, the store only writes. A hamlet
// that exists keeps its commune (ReparentHamlets moves it).
func (s *Store) ImportUnits(ctx context.Context, units []schema.AdminUnit) error {
	return s.ImportUnitsMarking(ctx, units, nil)
}

// ImportUnitsMarking imports units as ImportUnits does and, in the same
// transaction, marks the enabled accounts bound to changed as awaiting
// confirmation: an import that fails marks no one.
func (s *Store) ImportUnitsMarking(ctx context.Context, units []schema.AdminUnit, changed []string) error {
	plan, err := schema.PlanUnitImport(units)
	if err != nil {
		return fmt.Errorf("import units: %w", err)
	}
	return s.write(ctx, func(w *pgTx) error {
		if err := markUnitChanged(w, changed, plan.RetiredOn); err != nil {
			return err
		}
		for _, u := range plan.Units {
			var parent, retired *string
			if u.ParentCode != "" {
				parent = &u.ParentCode
			}
			if u.RetiredOn != "" {
				retired = &u.RetiredOn
			}
			if _, err := w.tx.Exec(w.ctx, `INSERT INTO admin_units (code, name, type, level, parent_code, retired_on) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, level = excluded.level,
				parent_code = CASE WHEN admin_units.level = 'hamlet' AND excluded.level = 'hamlet' AND admin_units.parent_code IS NOT NULL
					THEN admin_units.parent_code ELSE excluded.parent_code END,
				retired_on = excluded.retired_on`,
				u.Code, u.Name, u.Type, string(u.Level), parent, retired); err != nil {
				return fmt.Errorf("import unit %s: %w", u.Code, err)
			}
		}
		for _, l := range plan.Links {
			if _, err := w.tx.Exec(w.ctx, `INSERT INTO admin_unit_predecessors (code, predecessor_code, partial) VALUES ($1, $2, $3)
				ON CONFLICT (code, predecessor_code) DO UPDATE SET partial = excluded.partial`, l.Code, l.Predecessor, l.Partial); err != nil {
				return fmt.Errorf("import unit %s: predecessor %s: %w", l.Code, l.Predecessor, err)
			}
		}
		for _, code := range plan.Retire {
			if _, err := w.tx.Exec(w.ctx, `UPDATE admin_units SET retired_on = COALESCE(retired_on, $1) WHERE code = $2`, plan.RetiredOn, code); err != nil {
				return fmt.Errorf("retire unit %s: %w", code, err)
			}
		}
		if plan.RetireDistricts {
			if _, err := w.tx.Exec(w.ctx, `UPDATE admin_units SET retired_on = COALESCE(retired_on, $1) WHERE level = 'district'`, plan.RetiredOn); err != nil {
				return fmt.Errorf("retire districts: %w", err)
			}
		}
		return nil
	})
}

// UnitNames are the names of the units of codes (server.AdminStore).
func (s *Store) UnitNames(ctx context.Context, codes []string) (map[string]string, error) {
	out := make(map[string]string, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := s.q().Query(ctx, `SELECT code, name FROM admin_units WHERE code = ANY($1)`, codes)
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

// Units lists units of a level (all levels if ""), under parent if not "".
func (s *Store) Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error) {
	rows, err := s.q().Query(ctx, `SELECT code, name, type, level, COALESCE(parent_code, ''), COALESCE(retired_on, '') FROM admin_units
		WHERE ($1 = '' OR level = $1) AND ($2 = '' OR parent_code = $2) ORDER BY code COLLATE "C"`, string(level), parent)
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
	prows, err := s.q().Query(ctx, `SELECT code, predecessor_code, partial FROM admin_unit_predecessors ORDER BY code COLLATE "C", predecessor_code COLLATE "C"`)
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

func (s *Store) CreateTeam(ctx context.Context, t server.Team) error {
	return s.ImportTeams(ctx, []server.Team{t}, nil)
}

// ImportTeams inserts teams, their hamlets and members in one transaction.
func (s *Store) ImportTeams(ctx context.Context, teams []server.Team, members []server.Member) error {
	return s.write(ctx, func(w *pgTx) error {
		for _, t := range teams {
			if _, err := w.tx.Exec(w.ctx, `INSERT INTO teams (id, commune_code, name) VALUES ($1, $2, $3)`, t.ID, t.CommuneCode, t.Name); err != nil {
				if isUnique(err) {
					return fmt.Errorf("create team %s: %w", t.ID, server.ErrConflict)
				}
				return fmt.Errorf("create team %s: %w", t.ID, err)
			}
			if len(t.Hamlets) > 0 {
				if _, err := w.tx.Exec(w.ctx, `INSERT INTO team_hamlets (team_id, hamlet_code) SELECT $1, h FROM unnest($2::text[]) AS h`, t.ID, t.Hamlets); err != nil {
					return fmt.Errorf("create team %s: hamlets: %w", t.ID, err)
				}
			}
		}
		for _, m := range members {
			if err := addMember(w, m, false); err != nil {
				return err
			}
		}
		return nil
	})
}

func addMember(w *pgTx, m server.Member, check bool) error {
	if check {
		if _, err := team1(w.ctx, w.tx, m.TeamID); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
	}
	var phone *string
	if m.Phone != "" {
		phone = &m.Phone
	}
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO members (id, team_id, name, role, phone) VALUES ($1, $2, $3, $4, $5)`, m.ID, m.TeamID, m.Name, m.Role, phone); err != nil {
		if isUnique(err) {
			return fmt.Errorf("add member %s: %w", m.ID, server.ErrConflict)
		}
		return fmt.Errorf("add member %s: %w", m.ID, err)
	}
	return nil
}

func (s *Store) Teams(ctx context.Context) ([]server.Team, error) {
	rows, err := s.q().Query(ctx, `SELECT t.id, t.commune_code, t.name,
		COALESCE(array_agg(th.hamlet_code ORDER BY th.hamlet_code COLLATE "C") FILTER (WHERE th.hamlet_code IS NOT NULL), '{}')
		FROM teams t LEFT JOIN team_hamlets th ON th.team_id = t.id GROUP BY t.id
		ORDER BY t.commune_code COLLATE "C", t.name COLLATE "C", t.id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []server.Team
	for rows.Next() {
		var t server.Team
		if err := rows.Scan(&t.ID, &t.CommuneCode, &t.Name, &t.Hamlets); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if len(t.Hamlets) == 0 {
			t.Hamlets = nil
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) AddMember(ctx context.Context, m server.Member) error {
	return s.write(ctx, func(w *pgTx) error { return addMember(w, m, true) })
}

func (s *Store) Member(ctx context.Context, id string) (server.Member, error) {
	return member1(ctx, s.q(), id)
}

// SetTeamCommunes moves teams to other communes (after a reorganisation).
func (s *Store) SetTeamCommunes(ctx context.Context, communeOf map[string]string) error {
	return s.write(ctx, func(w *pgTx) error {
		for id, c := range communeOf {
			if _, err := w.tx.Exec(w.ctx, `UPDATE teams SET commune_code = $1 WHERE id = $2`, c, id); err != nil {
				return fmt.Errorf("move team %s: %w", id, err)
			}
		}
		return nil
	})
}

// ReparentHamlets sets hamlets' parent communes in one transaction.
func (s *Store) ReparentHamlets(ctx context.Context, parentOf map[string]string) error {
	return s.write(ctx, func(w *pgTx) error {
		for h, c := range parentOf {
			if _, err := w.tx.Exec(w.ctx, `UPDATE admin_units SET parent_code = $1 WHERE code = $2 AND level = 'hamlet'`, c, h); err != nil {
				return fmt.Errorf("re-parent hamlet %s: %w", h, err)
			}
		}
		return nil
	})
}

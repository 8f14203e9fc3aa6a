package pgstore

import (
	"errors"

	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"sort"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ImportUnits persists schema.PlanUnitImport's plan in one transaction, as
// the SQLite store does: the plan decides, the store only writes.
func (s *Store) ImportUnits(ctx context.Context, units []schema.AdminUnit) error {
	plan, err := schema.PlanUnitImport(units)
	if err != nil {
		return fmt.Errorf("import units: %w", err)
	}
	return s.write(ctx, func(w *pgTx) error {
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
				parent_code = excluded.parent_code, retired_on = excluded.retired_on`,
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

// Units lists units of a level (all levels if ""), under parent if not "".
func (s *Store) Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error) {
	rows, err := s.q().Query(ctx, `SELECT code, name, type, level, COALESCE(parent_code, ''), COALESCE(retired_on, '') FROM admin_units
		WHERE ($1 = '' OR level = $1) AND ($2 = '' OR parent_code = $2) ORDER BY code COLLATE "C"`, string(level), parent)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	var out []schema.AdminUnit
	idx := map[string]int{}
	for rows.Next() {
		var u schema.AdminUnit
		var lvl string
		if err := rows.Scan(&u.Code, &u.Name, &u.Type, &lvl, &u.ParentCode, &u.RetiredOn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list units: %w", err)
		}
		u.Level = schema.Level(lvl)
		idx[u.Code] = len(out)
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
	for prows.Next() {
		var code, pred string
		var partial bool
		if err := prows.Scan(&code, &pred, &partial); err != nil {
			return nil, fmt.Errorf("list units: %w", err)
		}
		if i, ok := idx[code]; ok {
			out[i].FormedFrom = append(out[i].FormedFrom, schema.Predecessor{Code: pred, Partial: partial})
		}
		if i, ok := idx[pred]; ok && pred != code {
			out[i].SuccessorCodes = append(out[i].SuccessorCodes, code)
		}
	}
	return out, prows.Err()
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

// GC implements the tombstone rule of DESIGN.md (sync semantics 5) as the
// SQLite store does (server/sqlite_admin.go). A tombstoned row is dropped
// under its row lock, taken only if free: a push holding the row now is
// left alone, and the row goes at the next GC.
func (s *Store) GC(ctx context.Context) (server.GCStats, error) {
	return s.Collect(ctx, server.GCOptions{})
}

// Collect is GC with options (server.GCOptions), as the SQLite store does.
func (s *Store) Collect(ctx context.Context, opts server.GCOptions) (server.GCStats, error) {
	var st server.GCStats
	err := s.write(ctx, func(w *pgTx) error {
		st = server.GCStats{}
		if err := w.collectDigests(&st); err != nil { // fork.go
			return err
		}
		var head int64
		if err := w.tx.QueryRow(w.ctx, `SELECT seq FROM sync_log_head`).Scan(&head); err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		minCur := map[string]uint64{}
		rows, err := w.tx.Query(w.ctx, `SELECT th.hamlet_code, MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
			JOIN team_hamlets th ON th.team_id = m.team_id WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= $1
			GROUP BY th.hamlet_code`, server.SilentMs(opts.SilentBefore))
		if err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		for rows.Next() {
			var sc string
			var c int64
			if err := rows.Scan(&sc, &c); err != nil {
				rows.Close()
				return fmt.Errorf("gc: %w", err)
			}
			minCur[sc] = uint64(c)
		}
		rows.Close()
		floor := func(scope string) uint64 {
			if c, ok := minCur[scope]; ok {
				return c
			}
			return uint64(head)
		}
		raised := map[string]uint64{}
		raise := func(scope string, seq uint64) {
			if seq > raised[scope] {
				raised[scope] = seq
			}
		}
		type dead struct {
			server.RowRef
			scope string
			tomb  int64
		}
		var drop []dead
		rows, err = w.tx.Query(w.ctx, `SELECT tbl, row, scope, tomb_seq FROM sync_rows WHERE deleted`)
		if err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		for rows.Next() {
			var d dead
			var id []byte
			if err := rows.Scan(&d.Table, &id, &d.scope, &d.tomb); err != nil {
				rows.Close()
				return fmt.Errorf("gc: %w", err)
			}
			copy(d.Row[:], id)
			if uint64(d.tomb) <= floor(d.scope) {
				drop = append(drop, d)
			}
		}
		rows.Close()
		for _, d := range drop {
			var ok bool
			if err := w.tx.QueryRow(w.ctx, `SELECT pg_try_advisory_xact_lock($1)`, rowKey(d.Table, d.Row)).Scan(&ok); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			if !ok {
				continue
			}
			tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_rows WHERE tbl = $1 AND row = $2 AND deleted AND tomb_seq = $3`, d.Table, d.Row[:], d.tomb)
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			if tag.RowsAffected() == 0 {
				continue // changed since it was listed
			}
			tag, err = w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE scope = $1 AND tbl = $2 AND row = $3`, d.scope, d.Table, d.Row[:])
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			st.Entries += int(tag.RowsAffected())
			if t, ok := schema.LookupTable(d.Table); ok {
				if _, err := w.tx.Exec(w.ctx, `DELETE FROM `+t.Name+` WHERE id = $1`, d.Row.String()); err != nil {
					return fmt.Errorf("gc: drop %s row: %w", d.Table, err)
				}
			}
			st.Rows++
			raise(d.scope, uint64(d.tomb))
		}
		if opts.Truncate {
			scopes := make([]string, 0, len(minCur))
			for sc := range minCur {
				scopes = append(scopes, sc)
			}
			sort.Strings(scopes)
			for _, sc := range scopes {
				var top *int64
				if err := w.tx.QueryRow(w.ctx, `SELECT max(seq) FROM sync_log WHERE scope = $1 AND seq <= $2`, sc, int64(minCur[sc])).Scan(&top); err != nil {
					return fmt.Errorf("gc: truncate: %w", err)
				}
				if top == nil {
					continue
				}
				tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE scope = $1 AND seq <= $2`, sc, int64(minCur[sc]))
				if err != nil {
					return fmt.Errorf("gc: truncate: %w", err)
				}
				st.Entries += int(tag.RowsAffected())
				st.Truncated += int(tag.RowsAffected())
				raise(sc, uint64(*top))
			}
			return writeFloors(w, raised, &st)
		}
		// Compact superseded entries scope by scope.
		var scopes []string
		rows, err = w.tx.Query(w.ctx, `SELECT DISTINCT scope FROM sync_rows`)
		if err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		for rows.Next() {
			var sc string
			if err := rows.Scan(&sc); err != nil {
				rows.Close()
				return fmt.Errorf("gc: %w", err)
			}
			scopes = append(scopes, sc)
		}
		rows.Close()
		sort.Strings(scopes)
		cache := map[server.RowRef]map[string]syncproto.Version{}
		for _, sc := range scopes {
			type ent struct {
				seq    int64
				ref    server.RowRef
				field  string
				origin int64
				oseq   int64
			}
			var ents []ent
			rows, err := w.tx.Query(w.ctx, `SELECT seq, tbl, row, field, origin, oseq FROM sync_log WHERE scope = $1 AND seq <= $2 AND kind = 0`, sc, int64(floor(sc)))
			if err != nil {
				return fmt.Errorf("gc: compact: %w", err)
			}
			for rows.Next() {
				var e ent
				var id []byte
				if err := rows.Scan(&e.seq, &e.ref.Table, &id, &e.field, &e.origin, &e.oseq); err != nil {
					rows.Close()
					return fmt.Errorf("gc: compact: %w", err)
				}
				copy(e.ref.Row[:], id)
				ents = append(ents, e)
			}
			rows.Close()
			var stale []int64
			for _, e := range ents {
				vs, ok := cache[e.ref]
				if !ok {
					var blob []byte
					err := w.tx.QueryRow(w.ctx, `SELECT versions FROM sync_rows WHERE tbl = $1 AND row = $2`, e.ref.Table, e.ref.Row[:]).Scan(&blob)
					if err == nil {
						vs, err = server.DecodeVersions(blob, w.replica)
					} else if errors.Is(err, pgx.ErrNoRows) {
						err = nil
					}
					if err != nil {
						return fmt.Errorf("gc: compact: %w", err)
					}
					cache[e.ref] = vs
				}
				cur, ok := vs[e.field]
				if !ok {
					continue
				}
				origin, err := w.replica(e.origin)
				if err != nil {
					return fmt.Errorf("gc: compact: %w", err)
				}
				// A version only ever moves on to a newer entry, so an entry
				// that is not the current one never will be again.
				if cur.Dot != (syncproto.Dot{Replica: origin, Seq: uint64(e.oseq)}) {
					stale = append(stale, e.seq)
				}
			}
			if len(stale) > 0 {
				if _, err := w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE seq = ANY($1::int8[])`, stale); err != nil {
					return fmt.Errorf("gc: compact: %w", err)
				}
			}
			st.Superseded += len(stale)
			st.Entries += len(stale)
		}
		return writeFloors(w, raised, &st)
	})
	return st, err
}

// writeFloors raises the log floor of each scope to what collection removed.
func writeFloors(w *pgTx, raised map[string]uint64, st *server.GCStats) error {
	for sc, seq := range raised {
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO sync_log_floor (scope, seq) VALUES ($1, $2)
			ON CONFLICT (scope) DO UPDATE SET seq = GREATEST(sync_log_floor.seq, excluded.seq)`, sc, int64(seq)); err != nil {
			return fmt.Errorf("gc: log floor: %w", err)
		}
		st.Floors++
	}
	return nil
}

// Horizon implements server.Store.Horizon.
func (s *Store) Horizon(ctx context.Context, scopes []string, silentBefore time.Time) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var h *int64
	err := s.pool.QueryRow(ctx, `SELECT min(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= $1
		AND m.team_id IN (SELECT th.team_id FROM team_hamlets th WHERE th.hamlet_code = ANY($2::text[]))`,
		server.SilentMs(silentBefore), scopes).Scan(&h)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	if h == nil {
		return 0, nil
	}
	return uint64(*h), nil
}

package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ImportUnits persists schema.PlanUnitImport's plan in one transaction: the
// plan decides which units a reorganised tree retires, the store only writes.
func (s *sqliteStore) ImportUnits(ctx context.Context, units []schema.AdminUnit) error {
	plan, err := schema.PlanUnitImport(units)
	if err != nil {
		return fmt.Errorf("import units: %w", err)
	}
	return s.write(ctx, func(w *sqliteTx) error {
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
				parent_code = excluded.parent_code, retired_on = excluded.retired_on`,
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
func (s *sqliteStore) Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error) {
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
	prows, err := s.rdb.QueryContext(ctx, `SELECT code, predecessor_code, partial FROM admin_unit_predecessors ORDER BY code, predecessor_code`)
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

func (s *sqliteStore) CreateTeam(ctx context.Context, t Team) error {
	return s.write(ctx, func(w *sqliteTx) error {
		if _, err := w.exec(`INSERT INTO teams (id, commune_code, name) VALUES (?, ?, ?)`, t.ID, t.CommuneCode, t.Name); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("create team %s: %w", t.ID, ErrConflict)
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

func (s *sqliteStore) Teams(ctx context.Context) ([]Team, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT t.id, t.commune_code, t.name, COALESCE(GROUP_CONCAT(th.hamlet_code, ','), '')
		FROM teams t LEFT JOIN team_hamlets th ON th.team_id = t.id GROUP BY t.id ORDER BY t.commune_code, t.name, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var t Team
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

func (s *sqliteStore) AddMember(ctx context.Context, m Member) error {
	return s.write(ctx, func(w *sqliteTx) error {
		if _, err := w.team(m.TeamID); err != nil {
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

func (s *sqliteStore) Member(ctx context.Context, id string) (Member, error) {
	var m Member
	err := s.rdb.QueryRowContext(ctx, `SELECT id, team_id, name, role, COALESCE(phone, '') FROM members WHERE id = ?`, id).
		Scan(&m.ID, &m.TeamID, &m.Name, &m.Role, &m.Phone)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("member %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("member %s: %w", id, err)
	}
	return m, nil
}

// GC implements the tombstone rule of DESIGN.md (sync semantics 5): a
// deleted row is dropped once every active device whose scope holds it has
// acknowledged (pulled past) the tombstone; a scope no device holds needs no
// tombstone. Superseded log entries at or below the lowest cursor of a
// scope's devices are compacted too: every device there has them already.
func (s *sqliteStore) GC(ctx context.Context) (GCStats, error) { return s.Collect(ctx, GCOptions{}) }

// Collect is GC with options (see GCOptions).
func (s *sqliteStore) Collect(ctx context.Context, opts GCOptions) (GCStats, error) {
	var st GCStats
	err := s.write(ctx, func(w *sqliteTx) error {
		st = GCStats{}
		if err := w.collectDigests(&st); err != nil { // sqlite_fork.go
			return err
		}
		var head int64
		row, err := w.queryRow(`SELECT ` + sqliteHead)
		if err != nil {
			return err
		}
		if err := row.Scan(&head); err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		// The lowest acknowledged cursor per scope, over active devices.
		minCur := map[string]uint64{}
		rows, err := w.query(`SELECT th.hamlet_code, MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
			JOIN team_hamlets th ON th.team_id = m.team_id WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= ?
			GROUP BY th.hamlet_code`, SilentMs(opts.SilentBefore))
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
		// raised is the new log floor of each scope: the highest seq removed
		// there that a device behind it would have needed.
		raised := map[string]uint64{}
		raise := func(scope string, seq uint64) {
			if seq > raised[scope] {
				raised[scope] = seq
			}
		}
		type dead struct {
			RowRef
			scope string
			tomb  uint64
		}
		var drop []dead
		rows, err = w.query(`SELECT tbl, row, scope, tomb_seq FROM sync_rows WHERE deleted = 1`)
		if err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		for rows.Next() {
			var d dead
			var id []byte
			var tomb int64
			if err := rows.Scan(&d.Table, &id, &d.scope, &tomb); err != nil {
				rows.Close()
				return fmt.Errorf("gc: %w", err)
			}
			copy(d.Row[:], id)
			d.tomb = uint64(tomb)
			if d.tomb <= floor(d.scope) {
				drop = append(drop, d)
			}
		}
		rows.Close()
		for _, d := range drop {
			res, err := w.exec(`DELETE FROM sync_log WHERE scope = ? AND tbl = ? AND row = ?`, d.scope, d.Table, d.Row[:])
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			n, _ := res.RowsAffected()
			st.Entries += int(n)
			if _, err := w.exec(`DELETE FROM sync_rows WHERE tbl = ? AND row = ?`, d.Table, d.Row[:]); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			if err := w.deleteRowData(d.Table, d.Row); err != nil {
				return err
			}
			st.Rows++
			// A device below the tombstone never learns of the delete.
			raise(d.scope, d.tomb)
		}
		if opts.Truncate {
			if err := sqliteTruncate(w, minCur, raise, &st); err != nil {
				return err
			}
		} else if err := sqliteCompact(w, floor, &st); err != nil {
			return err
		}
		if st.Entries > 0 {
			// Keep the head: a log emptied at its top must not hand out
			// its seqs again.
			if _, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('gc_head', ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(head)); err != nil {
				return fmt.Errorf("gc: keep head: %w", err)
			}
		}
		for sc, seq := range raised {
			if _, err := w.exec(`INSERT INTO sync_log_floor (scope, seq) VALUES (?, ?)
				ON CONFLICT (scope) DO UPDATE SET seq = MAX(seq, excluded.seq)`, sc, int64(seq)); err != nil {
				return fmt.Errorf("gc: log floor: %w", err)
			}
			st.Floors++
		}
		return nil
	})
	return st, err
}

// sqliteTruncate drops every entry at or below the lowest durable cursor of
// each scope some active device covers (GCOptions.Truncate).
func sqliteTruncate(w *sqliteTx, minCur map[string]uint64, raise func(string, uint64), st *GCStats) error {
	scopes := make([]string, 0, len(minCur))
	for sc := range minCur {
		scopes = append(scopes, sc)
	}
	sort.Strings(scopes)
	for _, sc := range scopes {
		f := int64(minCur[sc])
		var top sql.NullInt64
		row, err := w.queryRow(`SELECT MAX(seq) FROM sync_log WHERE scope = ? AND seq <= ?`, sc, f)
		if err != nil {
			return fmt.Errorf("gc: truncate: %w", err)
		}
		if err := row.Scan(&top); err != nil {
			return fmt.Errorf("gc: truncate: %w", err)
		}
		if !top.Valid {
			continue
		}
		res, err := w.exec(`DELETE FROM sync_log WHERE scope = ? AND seq <= ?`, sc, f)
		if err != nil {
			return fmt.Errorf("gc: truncate: %w", err)
		}
		n, _ := res.RowsAffected()
		st.Entries += int(n)
		st.Truncated += int(n)
		raise(sc, uint64(top.Int64))
	}
	return nil
}

// sqliteCompact drops superseded entries at or below each scope's floor.
func sqliteCompact(w *sqliteTx, floor func(string) uint64, st *GCStats) error {
	// Compact superseded entries scope by scope.
	var scopes []string
	rows, err := w.query(`SELECT DISTINCT scope FROM sync_rows`)
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
	cache := map[RowRef]map[string]syncproto.Version{}
	for _, sc := range scopes {
		var stale []int64
		rows, err := w.query(`SELECT seq, tbl, row, field, origin, oseq FROM sync_log WHERE scope = ? AND seq <= ? AND kind = 0`, sc, int64(floor(sc)))
		if err != nil {
			return fmt.Errorf("gc: compact: %w", err)
		}
		type ent struct {
			seq    int64
			ref    RowRef
			field  string
			origin int64
			oseq   int64
		}
		var ents []ent
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
		for _, e := range ents {
			vs, ok := cache[e.ref]
			if !ok {
				rs, _, err := w.Row(e.ref.Table, e.ref.Row)
				if err != nil {
					return fmt.Errorf("gc: compact: %w", err)
				}
				vs = rs.Versions
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
			if cur.Dot != (syncproto.Dot{Replica: origin, Seq: uint64(e.oseq)}) {
				stale = append(stale, e.seq)
			}
		}
		for _, seq := range stale {
			if _, err := w.exec(`DELETE FROM sync_log WHERE seq = ?`, seq); err != nil {
				return fmt.Errorf("gc: compact: %w", err)
			}
		}
		st.Superseded += len(stale)
		st.Entries += len(stale)
	}
	return nil
}

// Horizon implements Store.Horizon: the lowest durable cursor of the active
// devices (not silent since silentBefore) covering any of scopes.
func (s *sqliteStore) Horizon(ctx context.Context, scopes []string, silentBefore time.Time) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	js, err := json.Marshal(scopes)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	var h sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, `SELECT MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= ?
		AND m.team_id IN (SELECT th.team_id FROM team_hamlets th WHERE th.hamlet_code IN (SELECT value FROM json_each(?)))`,
		SilentMs(silentBefore), string(js)).Scan(&h)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	return uint64(h.Int64), nil
}

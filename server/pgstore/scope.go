package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Scope history on PostgreSQL (server/scope.go, migration
// 0003_scope_history.sql).

func (w *pgTx) AddScopeMove(m server.ScopeMove) error {
	_, err := w.tx.Exec(w.ctx, `INSERT INTO scope_moves (tbl, row, household, from_scope, to_scope, hlc, server_seq, at_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.Table, m.Row[:], m.Household[:], m.From, m.To, int64(m.HLC), int64(m.ServerSeq), m.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("record scope move: %w", err)
	}
	return nil
}

func (w *pgTx) ScopeMoves(table string, id syncproto.RowID) ([]server.ScopeMove, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT household, from_scope, to_scope, hlc, server_seq, at_ms FROM scope_moves
		WHERE row = $1 AND tbl = $2 ORDER BY server_seq, id`, id[:], table)
	if err != nil {
		return nil, fmt.Errorf("read scope moves: %w", err)
	}
	defer rows.Close()
	var out []server.ScopeMove
	for rows.Next() {
		m := server.ScopeMove{Table: table, Row: id}
		var hh []byte
		var hlc, seq, at int64
		if err := rows.Scan(&hh, &m.From, &m.To, &hlc, &seq, &at); err != nil {
			return nil, fmt.Errorf("read scope moves: %w", err)
		}
		copy(m.Household[:], hh)
		m.HLC, m.ServerSeq, m.At = syncproto.HLC(hlc), uint64(seq), time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

func (w *pgTx) Collected(refs []server.RowRef) (map[server.RowRef]bool, error) {
	out := map[server.RowRef]bool{}
	if len(refs) == 0 {
		return out, nil
	}
	ids := make([][]byte, len(refs))
	for i, r := range refs {
		ids[i] = r.Row[:]
	}
	rows, err := w.tx.Query(w.ctx, `SELECT tbl, row FROM sync_collected WHERE row = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read collected rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r server.RowRef
		var id []byte
		if err := rows.Scan(&r.Table, &id); err != nil {
			return nil, fmt.Errorf("read collected rows: %w", err)
		}
		copy(r.Row[:], id)
		out[r] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read collected rows: %w", err)
	}
	return out, nil
}

func (w *pgTx) MovedAbove(refs []server.RowRef, seq uint64) (map[server.RowRef]bool, error) {
	out := map[server.RowRef]bool{}
	if len(refs) == 0 {
		return out, nil
	}
	ids := make([][]byte, len(refs))
	for i, r := range refs {
		ids[i] = r.Row[:]
	}
	rows, err := w.tx.Query(w.ctx, `SELECT DISTINCT tbl, row FROM scope_moves WHERE server_seq > $1 AND row = ANY($2)`, int64(seq), ids)
	if err != nil {
		return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r server.RowRef
		var id []byte
		if err := rows.Scan(&r.Table, &id); err != nil {
			return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
		}
		copy(r.Row[:], id)
		out[r] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
	}
	return out, nil
}

func (w *pgTx) TeamScopeLog(team string) ([]server.TeamScopeChange, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT hamlet, added, hlc, at_ms FROM team_scope_log WHERE team_id = $1 ORDER BY id`, team)
	if err != nil {
		return nil, fmt.Errorf("read team scope log: %w", err)
	}
	defer rows.Close()
	var out []server.TeamScopeChange
	for rows.Next() {
		c := server.TeamScopeChange{Team: team}
		var hlc, at int64
		if err := rows.Scan(&c.Hamlet, &c.Added, &hlc, &at); err != nil {
			return nil, fmt.Errorf("read team scope log: %w", err)
		}
		c.HLC, c.At = syncproto.HLC(hlc), time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChangeTeamHamlet changes a team's hamlets and records the change. The
// servers sharing the database notice it at their next scope check
// (server.Config.RevokeCheck) and end that team's sessions.
func (s *Store) ChangeTeamHamlet(ctx context.Context, c server.TeamScopeChange) (changed bool, err error) {
	err = s.write(ctx, func(w *pgTx) error {
		changed = false
		if _, err := team1(w.ctx, w.tx, c.Team); err != nil {
			return fmt.Errorf("change team hamlets: %w", err)
		}
		q := `DELETE FROM team_hamlets WHERE team_id = $1 AND hamlet_code = $2`
		if c.Added {
			q = `INSERT INTO team_hamlets (team_id, hamlet_code) VALUES ($1, $2) ON CONFLICT DO NOTHING`
		}
		tag, err := w.tx.Exec(w.ctx, q, c.Team, c.Hamlet)
		if err != nil {
			return fmt.Errorf("change team hamlets: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		changed = true
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO team_scope_log (team_id, hamlet, added, hlc, at_ms) VALUES ($1, $2, $3, $4, $5)`,
			c.Team, c.Hamlet, c.Added, int64(c.HLC), c.At.UnixMilli()); err != nil {
			return fmt.Errorf("record team scope change: %w", err)
		}
		return nil
	})
	return changed, err
}

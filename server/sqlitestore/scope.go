package sqlitestore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Scope history on SQLite (scope.go, migration 0003_scope_history.sql).

func (w *writeTx) AddScopeMove(m server.ScopeMove) error {
	_, err := w.exec(`INSERT INTO scope_moves (tbl, row, household, from_scope, to_scope, hlc, server_seq, at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Table, m.Row[:], m.Household[:], m.From, m.To, int64(m.HLC), int64(m.ServerSeq), m.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("record scope move: %w", err)
	}
	return nil
}

func (w *writeTx) ScopeMoves(table string, id syncproto.RowID) ([]server.ScopeMove, error) {
	rows, err := w.query(`SELECT household, from_scope, to_scope, hlc, server_seq, at_ms FROM scope_moves
		WHERE row = ? AND tbl = ? ORDER BY server_seq, id`, id[:], table)
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

func (w *writeTx) Collected(refs []server.RowRef) (map[server.RowRef]bool, error) {
	out := map[server.RowRef]bool{}
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), 400)]
		refs = refs[len(chunk):]
		args := make([]any, 0, len(chunk))
		for _, r := range chunk {
			args = append(args, r.Row[:])
		}
		rows, err := w.query(`SELECT tbl, row FROM sync_collected WHERE row IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read collected rows: %w", err)
		}
		for rows.Next() {
			var r server.RowRef
			var id []byte
			if err := rows.Scan(&r.Table, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read collected rows: %w", err)
			}
			copy(r.Row[:], id)
			out[r] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read collected rows: %w", err)
		}
	}
	return out, nil
}

func (w *writeTx) MovedAbove(refs []server.RowRef, seq uint64) (map[server.RowRef]bool, error) {
	out := map[server.RowRef]bool{}
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), 400)]
		refs = refs[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, int64(seq))
		for _, r := range chunk {
			args = append(args, r.Row[:])
		}
		rows, err := w.query(`SELECT DISTINCT tbl, row FROM scope_moves WHERE server_seq > ? AND row IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
		}
		for rows.Next() {
			var r server.RowRef
			var id []byte
			if err := rows.Scan(&r.Table, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
			}
			copy(r.Row[:], id)
			out[r] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read rows moved above %d: %w", seq, err)
		}
	}
	return out, nil
}

func (w *writeTx) TeamScopeLog(team string) ([]server.TeamScopeChange, error) {
	rows, err := w.query(`SELECT hamlet, added, hlc, at_ms FROM team_scope_log WHERE team_id = ? ORDER BY id`, team)
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

func (s *Store) ChangeTeamHamlet(ctx context.Context, c server.TeamScopeChange) (changed bool, err error) {
	err = s.write(ctx, func(w *writeTx) error {
		changed = false
		if _, err := w.Team(c.Team); err != nil {
			return fmt.Errorf("change team hamlets: %w", err)
		}
		var res interface{ RowsAffected() (int64, error) }
		var err error
		if c.Added {
			res, err = w.exec(`INSERT INTO team_hamlets (team_id, hamlet_code) VALUES (?, ?) ON CONFLICT DO NOTHING`, c.Team, c.Hamlet)
		} else {
			res, err = w.exec(`DELETE FROM team_hamlets WHERE team_id = ? AND hamlet_code = ?`, c.Team, c.Hamlet)
		}
		if err != nil {
			return fmt.Errorf("change team hamlets: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		if _, err := w.exec(`INSERT INTO team_scope_log (team_id, hamlet, added, hlc, at_ms) VALUES (?, ?, ?, ?, ?)`,
			c.Team, c.Hamlet, c.Added, int64(c.HLC), c.At.UnixMilli()); err != nil {
			return fmt.Errorf("record team scope change: %w", err)
		}
		return nil
	})
	return changed, err
}

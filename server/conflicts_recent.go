package server

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ConflictEntry is one field of the server's conflict log: where and when
// two writes to it conflicted (what they wrote stays in the log).
type ConflictEntry struct {
	At                   time.Time
	Hamlet, Table, Field string
	Row                  string
}

// RecentConflicts lists the latest conflicts of the server's conflict log
// (sync_conflicts) in the hamlets within accepts, newest first and at most
// limit, and how many the log holds for them in all.
func (a *Admin) RecentConflicts(ctx context.Context, within func(scope string) bool, limit int) ([]ConflictEntry, int, error) {
	rs, ok := a.s.store.(readDBStore)
	if !ok {
		return nil, 0, errNoAnalytics
	}
	db := rs.ReadDB()
	rows, err := db.QueryContext(ctx, `SELECT scope, count(*) FROM sync_conflicts GROUP BY scope`)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for rows.Next() {
		var scope string
		var n int
		if err := rows.Scan(&scope, &n); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if within(scope) {
			total += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || total == 0 {
		return nil, total, err
	}
	rows, err = db.QueryContext(ctx, `SELECT at_ms, scope, tbl, row, field FROM sync_conflicts ORDER BY id DESC LIMIT 5000`)
	if err != nil {
		return nil, total, err
	}
	defer rows.Close()
	var out []ConflictEntry
	for rows.Next() && len(out) < limit {
		var at int64
		var cr ConflictEntry
		var row []byte
		if err := rows.Scan(&at, &cr.Hamlet, &cr.Table, &row, &cr.Field); err != nil {
			return nil, total, err
		}
		if !within(cr.Hamlet) {
			continue
		}
		cr.At = time.UnixMilli(at)
		cr.Row = rowIDString(row)
		out = append(out, cr)
	}
	return out, total, rows.Err()
}

func rowIDString(b []byte) string {
	if len(b) == 16 {
		var id uuid.UUID
		copy(id[:], b)
		return id.String()
	}
	return string(b)
}

package sqlread

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ConflictCounts is server.ReadModelStore's: entries of the conflict log
// per hamlet.
func (s *Source) ConflictCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT scope, count(*) FROM sync_conflicts GROUP BY scope`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var scope string
		var n int
		if err := rows.Scan(&scope, &n); err != nil {
			return nil, err
		}
		out[scope] = n
	}
	return out, rows.Err()
}

// LatestConflicts is server.ReadModelStore's: the newest n entries.
func (s *Source) LatestConflicts(ctx context.Context, n int) ([]server.ConflictEntry, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT at_ms, scope, tbl, row, field FROM sync_conflicts ORDER BY id DESC LIMIT ?`), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []server.ConflictEntry
	for rows.Next() {
		var at int64
		var c server.ConflictEntry
		var row []byte
		if err := rows.Scan(&at, &c.Hamlet, &c.Table, &row, &c.Field); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at)
		c.Row = rowIDString(row)
		out = append(out, c)
	}
	return out, rows.Err()
}

func rowIDString(b []byte) string {
	if len(b) == 16 {
		var id uuid.UUID
		copy(id[:], b)
		return id.String()
	}
	return string(b)
}

// SnapshotLosses is server.SnapshotStore's: the conflicts logged on
// table's rows from from to to, by row.
func (s *Source) SnapshotLosses(ctx context.Context, table string, from, to syncproto.RowID) ([]syncproto.LostWrite, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT row, field, loser_origin, loser_seq, winner_origin, winner_seq FROM sync_conflicts
		WHERE tbl = ? AND row >= ? AND row <= ? ORDER BY row, id`), table, from[:], to[:])
	if err != nil {
		return nil, fmt.Errorf("read the conflicts of snapshot rows: %w", err)
	}
	defer rows.Close()
	var out []syncproto.LostWrite
	for rows.Next() {
		var row, lr, wr []byte
		var l syncproto.LostWrite
		var ls, ws int64
		if err := rows.Scan(&row, &l.Field, &lr, &ls, &wr, &ws); err != nil {
			return nil, fmt.Errorf("read the conflicts of snapshot rows: %w", err)
		}
		for _, id := range []struct {
			dst *uuid.UUID
			b   []byte
		}{{&l.Row, row}, {&l.Loser.Replica, lr}, {&l.Winner.Replica, wr}} {
			if *id.dst, err = uuid.FromBytes(id.b); err != nil {
				return nil, fmt.Errorf("read the conflicts of snapshot rows: %w", err)
			}
		}
		l.Loser.Seq, l.Winner.Seq = uint64(ls), uint64(ws)
		out = append(out, l)
	}
	return out, rows.Err()
}

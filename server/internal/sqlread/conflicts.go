package sqlread

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
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

// lossesBatch is how many row ids one SnapshotLosses statement asks for:
// a chunk's rows of a table in a few statements, each of the same text
// (the last batch repeats its last id), which the driver prepares once.
const lossesBatch = 200

var lossesSQL = `SELECT row, field, loser_origin, loser_seq, winner_origin, winner_seq FROM sync_conflicts
	WHERE tbl = ? AND row IN (?` + strings.Repeat(", ?", lossesBatch-1) + `) ORDER BY row, id`

// SnapshotLosses is server.SnapshotStore's: the conflicts logged on the
// given rows of table, by row, then as logged; by the (tbl, row) index.
func (s *Source) SnapshotLosses(ctx context.Context, table string, ids []syncproto.RowID) ([]syncproto.LostWrite, error) {
	var out []syncproto.LostWrite
	args := make([]any, 1+lossesBatch)
	args[0] = table
	for from := 0; from < len(ids); from += lossesBatch {
		for k := 0; k < lossesBatch; k++ {
			id := ids[min(from+k, len(ids)-1)]
			args[1+k] = id[:]
		}
		ls, err := s.losses(ctx, args)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	slices.SortStableFunc(out, func(a, b syncproto.LostWrite) int { return bytes.Compare(a.Row[:], b.Row[:]) })
	return out, nil
}

func (s *Source) losses(ctx context.Context, args []any) ([]syncproto.LostWrite, error) {
	rows, err := s.DB.QueryContext(ctx, s.q(lossesSQL), args...)
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

package agent

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
)

// ArchiveResult is what ArchiveConflicts did.
type ArchiveResult struct {
	Archived int    `json:"archived"` // entries written to the file
	Deleted  int    `json:"deleted"`  // entries removed from the conflicts list
	Out      string `json:"out"`
}

// ArchiveConflicts writes every conflict detected before `before` to the
// JSON Lines file out (internal/archive: both values, versions, when it was
// detected and restored), fsynced, and only then removes those entries. A
// failure before the removal leaves the list as it was; an existing out is
// never overwritten.
func (r *Replica) ArchiveConflicts(ctx context.Context, before time.Time, out string) (ArchiveResult, error) {
	res := ArchiveResult{Out: out}
	var last int64
	n, err := archive.WriteFile(out, func(emit func(archive.Conflict) error) error {
		rows, err := r.db.QueryContext(ctx, `SELECT id, tbl, row_id, field, scope, loser_kind, loser_value, loser_hlc, loser_replica, loser_seq,
			winner_kind, winner_value, winner_hlc, winner_replica, winner_seq, detected_at, restored_at FROM conflicts
			WHERE detected_at < ? ORDER BY id`, before.UnixMilli())
		if err != nil {
			return fmt.Errorf("read conflicts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c archive.Conflict
			var lk, wk, lh, wh, ls, ws, det int64
			var lv, wv any
			var lr, wr []byte
			var restored sql.NullInt64
			if err := rows.Scan(&c.ID, &c.Table, &c.Row, &c.Field, &c.Scope, &lk, &lv, &lh, &lr, &ls, &wk, &wv, &wh, &wr, &ws, &det, &restored); err != nil {
				return fmt.Errorf("read conflicts: %w", err)
			}
			side := func(k int64, v any, h int64, rep []byte, seq int64) archive.Version {
				val := valueFrom(k, v)
				d := dotFrom(rep, seq)
				return archive.Version{Kind: archive.KindName(val.Kind()), Value: val.Any(), HLC: uint64(h), Replica: d.Replica.String(), Seq: d.Seq}
			}
			c.Loser, c.Winner = side(lk, lv, lh, lr, ls), side(wk, wv, wh, wr, ws)
			c.At = time.UnixMilli(det).UTC()
			if restored.Valid {
				at := time.UnixMilli(restored.Int64).UTC()
				c.RestoredAt = &at
			}
			last = c.ID
			if err := emit(c); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil || n == 0 {
		return res, err
	}
	res.Archived = n
	rs, err := r.db.ExecContext(ctx, `DELETE FROM conflicts WHERE detected_at < ? AND id <= ?`, before.UnixMilli(), last)
	if err != nil {
		return res, fmt.Errorf("remove archived conflicts (they are in %s): %w", out, err)
	}
	d, _ := rs.RowsAffected()
	res.Deleted = int(d)
	return res, nil
}

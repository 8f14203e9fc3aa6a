package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/internal/versions"
)

func (s *Store) ConflictsBefore(ctx context.Context, before time.Time, fn func(archive.Conflict) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at_ms, scope, tbl, row, field, loser_kind, loser_val, loser_hlc, loser_origin, loser_seq,
		winner_hlc, winner_origin, winner_seq FROM sync_conflicts WHERE at_ms < ? ORDER BY id`, before.UnixMilli())
	if err != nil {
		return fmt.Errorf("read conflicts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at, kind, lHLC, lSeq, wHLC, wSeq int64
		var scope, table, field string
		var row, lOrigin, wOrigin []byte
		var val any
		if err := rows.Scan(&id, &at, &scope, &table, &row, &field, &kind, &val, &lHLC, &lOrigin, &lSeq, &wHLC, &wOrigin, &wSeq); err != nil {
			return fmt.Errorf("read conflicts: %w", err)
		}
		v, err := versions.FromSQL(kind, val)
		if err != nil {
			return fmt.Errorf("read conflict %d: %w", id, err)
		}
		if err := fn(archive.ServerConflict(id, at, scope, table, row, field, v, lHLC, lOrigin, lSeq, wHLC, wOrigin, wSeq)); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) DeleteConflicts(ctx context.Context, before time.Time, upTo int64) (int, error) {
	var n int64
	err := s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`DELETE FROM sync_conflicts WHERE at_ms < ? AND id <= ?`, before.UnixMilli(), upTo)
		if err != nil {
			return fmt.Errorf("delete conflicts: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
)

// ConflictsBefore implements server.Store.ConflictsBefore.
func (s *Store) ConflictsBefore(ctx context.Context, before time.Time, fn func(archive.Conflict) error) error {
	rows, err := s.pool.Query(ctx, `SELECT id, at_ms, scope, tbl, row, field, loser_kind, loser_val, loser_hlc, loser_origin, loser_seq,
		winner_hlc, winner_origin, winner_seq FROM sync_conflicts WHERE at_ms < $1 ORDER BY id`, before.UnixMilli())
	if err != nil {
		return fmt.Errorf("read conflicts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at, lHLC, lSeq, wHLC, wSeq int64
		var kind int16
		var scope, table, field string
		var row, val, lOrigin, wOrigin []byte
		if err := rows.Scan(&id, &at, &scope, &table, &row, &field, &kind, &val, &lHLC, &lOrigin, &lSeq, &wHLC, &wOrigin, &wSeq); err != nil {
			return fmt.Errorf("read conflicts: %w", err)
		}
		v, err := decodeValue(kind, val)
		if err != nil {
			return fmt.Errorf("read conflict %d: %w", id, err)
		}
		if err := fn(archive.ServerConflict(id, at, scope, table, row, field, v, lHLC, lOrigin, lSeq, wHLC, wOrigin, wSeq)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeleteConflicts implements server.Store.DeleteConflicts.
func (s *Store) DeleteConflicts(ctx context.Context, before time.Time, upTo int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sync_conflicts WHERE at_ms < $1 AND id <= $2`, before.UnixMilli(), upTo)
	if err != nil {
		return 0, fmt.Errorf("delete conflicts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ArchiveResult is what ArchiveConflicts did.
type ArchiveResult struct {
	Archived int    `json:"archived"` // entries written to the file
	Deleted  int    `json:"deleted"`  // entries removed from the conflict log
	Out      string `json:"out"`
}

// ArchiveConflicts writes every conflict-log entry recorded before `before`
// to the JSON Lines file out (internal/archive), fsynced, and only then
// removes them from the log. Any failure before the removal leaves the log
// as it was; an existing out is never overwritten.
func (a *Admin) ArchiveConflicts(ctx context.Context, before time.Time, out string) (ArchiveResult, error) {
	res := ArchiveResult{Out: out}
	var last int64
	n, err := archive.WriteFile(out, func(emit func(archive.Conflict) error) error {
		return a.s.store.ConflictsBefore(ctx, before, func(c archive.Conflict) error {
			last = c.ID
			return emit(c)
		})
	})
	if err != nil {
		return res, err
	}
	res.Archived = n
	if n == 0 {
		return res, nil
	}
	if res.Deleted, err = a.s.store.DeleteConflicts(ctx, before, last); err != nil {
		return res, fmt.Errorf("remove archived conflicts (they are in %s): %w", out, err)
	}
	return res, nil
}

// archiveConflict builds the archive form of a stored server conflict: the
// server keeps the loser's value and only the winner's version.
func archiveConflict(id, atMs int64, scope, table string, row []byte, field string, loser syncproto.Value,
	lHLC int64, lOrigin []byte, lSeq, wHLC int64, wOrigin []byte, wSeq int64) archive.Conflict {
	var r uuid.UUID
	copy(r[:], row)
	var lo, wo uuid.UUID
	copy(lo[:], lOrigin)
	copy(wo[:], wOrigin)
	return archive.Conflict{
		ID: id, At: time.UnixMilli(atMs).UTC(), Scope: scope, Table: table, Row: r.String(), Field: field,
		Loser:  archive.Version{Kind: archive.KindName(loser.Kind()), Value: loser.Any(), HLC: uint64(lHLC), Replica: lo.String(), Seq: uint64(lSeq)},
		Winner: archive.Version{HLC: uint64(wHLC), Replica: wo.String(), Seq: uint64(wSeq)},
	}
}

// ArchiveConflict is archiveConflict for the other stores (pgstore).
var ArchiveConflict = archiveConflict

func (s *sqliteStore) ConflictsBefore(ctx context.Context, before time.Time, fn func(archive.Conflict) error) error {
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
		if err := fn(archiveConflict(id, at, scope, table, row, field, versions.FromSQL(kind, val), lHLC, lOrigin, lSeq, wHLC, wOrigin, wSeq)); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqliteStore) DeleteConflicts(ctx context.Context, before time.Time, upTo int64) (int, error) {
	var n int64
	err := s.write(ctx, func(w *sqliteTx) error {
		res, err := w.exec(`DELETE FROM sync_conflicts WHERE at_ms < ? AND id <= ?`, before.UnixMilli(), upTo)
		if err != nil {
			return fmt.Errorf("delete conflicts: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

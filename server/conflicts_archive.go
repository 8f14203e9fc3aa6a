package server

import (
	"context"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
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

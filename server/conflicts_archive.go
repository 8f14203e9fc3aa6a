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

// ConflictNote is an entry of the server's conflict log as the dashboard
// lists it: where and when, never a value.
type ConflictNote struct {
	At                  time.Time
	Scope, Table, Field string
	Row                 string // the row's id
}

// conflictScan is how many of the newest entries RecentConflicts reads
// at most to find those in a unit.
const conflictScan = 5000

// RecentConflicts lists the newest conflict-log entries of the scopes in
// (at most limit, newest first, from the newest conflictScan entries), and
// how many entries of those scopes the log holds in all.
func (s *Server) RecentConflicts(ctx context.Context, in func(scope string) bool, limit int) ([]ConflictNote, int, error) {
	counts, err := s.store.ConflictCounts(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for scope, n := range counts {
		if in(scope) {
			total += n
		}
	}
	if total == 0 {
		return nil, 0, nil
	}
	notes, err := s.store.LatestConflicts(ctx, conflictScan)
	if err != nil {
		return nil, total, err
	}
	var out []ConflictNote
	for _, n := range notes {
		if len(out) == limit {
			break
		}
		if in(n.Scope) {
			out = append(out, n)
		}
	}
	return out, total, nil
}

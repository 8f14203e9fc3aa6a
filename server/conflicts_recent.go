package server

import (
	"context"
	"time"
)

// ConflictEntry is one field of the server's conflict log: where and when
// two writes to it conflicted (what they wrote stays in the log).
type ConflictEntry struct {
	At                   time.Time
	Hamlet, Table, Field string
	Row                  string
}

// conflictScan is how many of the newest entries RecentConflicts reads at
// most to find those within a unit.
const conflictScan = 5000

// RecentConflicts lists the latest conflicts of the server's conflict log
// in the hamlets within accepts, newest first and at most limit (from the
// newest conflictScan entries), and how many the log holds for them in all.
func (a *Admin) RecentConflicts(ctx context.Context, within func(scope string) bool, limit int) ([]ConflictEntry, int, error) {
	counts, err := a.s.store.ConflictCounts(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for scope, n := range counts {
		if within(scope) {
			total += n
		}
	}
	if total == 0 {
		return nil, 0, nil
	}
	latest, err := a.s.store.LatestConflicts(ctx, conflictScan)
	if err != nil {
		return nil, total, err
	}
	var out []ConflictEntry
	for _, c := range latest {
		if len(out) == limit {
			break
		}
		if within(c.Hamlet) {
			out = append(out, c)
		}
	}
	return out, total, nil
}

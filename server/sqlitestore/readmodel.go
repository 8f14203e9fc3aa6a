package sqlitestore

import (
	"context"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// AnalyticsSource is the read model's source over the store's read pool.
func (s *Store) AnalyticsSource() analytics.Source { return s.src }

// ConflictCounts implements server.ReadModelStore.
func (s *Store) ConflictCounts(ctx context.Context) (map[string]int, error) {
	return s.src.ConflictCounts(ctx)
}

// LatestConflicts implements server.ReadModelStore.
func (s *Store) LatestConflicts(ctx context.Context, n int) ([]server.ConflictEntry, error) {
	return s.src.LatestConflicts(ctx, n)
}

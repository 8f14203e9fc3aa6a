package pgstore

import "github.com/jackc/pgx/v5/pgxpool"

// Pool is the store's connection pool, for tests that hold its
// connections or look at what the store wrote.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

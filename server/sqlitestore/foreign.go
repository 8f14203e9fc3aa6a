package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hamlet-vn/hamlet/server"
)

// Commits of other processes. The server answers pulls from memory (the
// hub's idle answer and its tail of the log) on the strength of the commit
// feed, which hears this store's own commits only; the operator's CLI may
// commit to the same file while serve runs (gc, team changes). SQLite's
// data_version tells, per connection, that another connection committed:
// on the writer connection that is another process (the read pool never
// writes); on a connection of its own, any commit at all, which a pull can
// ask without the writer's lock (Quiet).
type foreignWatch struct {
	mu    sync.Mutex // the probe connection
	db    *sql.DB    // the probe's own handle, one connection
	probe *sql.Conn
	// known is the probe's data_version when every commit up to it was
	// reported to the feed; wver the writer connection's at the last look
	// (under Store.mu).
	known atomic.Uint64
	wver  uint64
}

func dataVersion(ctx context.Context, c *sql.Conn) (uint64, error) {
	var v int64
	if err := c.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read data_version: %w", err)
	}
	return uint64(v), nil
}

// probeVersion is the probe connection's data_version.
func (s *Store) probeVersion(ctx context.Context) (uint64, error) {
	s.foreign.mu.Lock()
	defer s.foreign.mu.Unlock()
	if s.foreign.probe == nil {
		return 0, fmt.Errorf("store is closed")
	}
	return dataVersion(ctx, s.foreign.probe)
}

// Quiet reports whether every commit to the file so far was reported to
// the commit feed, or is being reported by a write of this process under
// way (server.CommitFeed). When another process committed, it says no and,
// unless this process is writing, reports that commit as a Restart: what
// it logged, or deleted, and where, is unknown.
func (s *Store) Quiet(ctx context.Context) bool {
	v, err := s.probeVersion(ctx)
	if err != nil {
		return false
	}
	if v == s.foreign.known.Load() {
		return true
	}
	if !s.mu.TryLock() {
		return false // a write of this process: its commit moved the version
	}
	defer s.mu.Unlock()
	if s.wconn != nil && s.watch != nil {
		_ = s.checkForeignLocked(context.WithoutCancel(ctx))
	}
	return false
}

// checkForeignLocked looks, under mu, for commits of other processes since
// the last look; if there were, it reports a Restart at the head now.
// Either way the probe's version now is known (read before the head: a
// commit landing between the two is seen again at the next look).
func (s *Store) checkForeignLocked(ctx context.Context) error {
	v, err := s.probeVersion(ctx)
	if err != nil {
		return err
	}
	w, err := dataVersion(ctx, s.wconn)
	if err != nil {
		return err
	}
	if w != s.foreign.wver {
		s.foreign.wver = w
		var head int64
		if err := s.wconn.QueryRowContext(ctx, `SELECT `+sqliteHead).Scan(&head); err != nil {
			return fmt.Errorf("read log head: %w", err)
		}
		s.watch(server.CommitEvent{Restart: true, Foreign: true, Head: uint64(head)})
	}
	s.foreign.known.Store(v)
	return nil
}

package server

import (
	"context"
	"math"
	"time"
)

// GCOptions tunes Store.Collect.
type GCOptions struct {
	// SilentBefore, when set, excludes active devices whose last contact
	// (or enrollment, if never seen) is before it: a device silent that
	// long no longer holds collection back. When it returns, its cursor is
	// below its scopes' log floor and it is told to re-clone
	// (Welcome.Reclone) after pushing what it has.
	SilentBefore time.Time
	// Truncate drops every log entry at or below the lowest durable cursor
	// of the active devices covering its scope, not only superseded ones:
	// every such device holds them already, and a new or returning device
	// behind the floor clones from the snapshot of rows instead. Scopes no
	// active device covers keep their log (a team that gains one reads it).
	Truncate bool
}

// DefaultSilentAfter is how long a device may stay silent before it stops
// holding collection back (Config.SilentAfter).
const DefaultSilentAfter = 180 * 24 * time.Hour

// SilentMs is the cutoff of GCOptions.SilentBefore in Unix ms for a store
// query: every device counts when it is zero.
func SilentMs(before time.Time) int64 {
	if before.IsZero() {
		return math.MinInt64
	}
	return before.UnixMilli()
}

// gcOptions is the options the server's own collection runs with.
func (s *Server) gcOptions() GCOptions {
	o := GCOptions{Truncate: s.cfg.TruncateLog}
	if s.cfg.SilentAfter > 0 {
		o.SilentBefore = s.now().Add(-s.cfg.SilentAfter)
	}
	return o
}

// silentBefore is the cutoff for Horizon (zero: no device is silent).
func (s *Server) silentBefore() time.Time { return s.gcOptions().SilentBefore }

// horizon is Changes.Horizon for a device of these scopes; 0 when unknown
// (the agent then keeps its tombstones).
func (s *Server) horizon(ctx context.Context, scopes []string) uint64 {
	h, err := s.store.Horizon(ctx, scopes, s.silentBefore())
	if err != nil {
		s.log.Warn("read collection horizon", LogErr, err)
		return 0
	}
	return h
}

// sqliteHead is the log head in SQL: the highest seq in the log, or the
// head GC recorded before it removed the last entries (so a collected log
// never hands out a seq again, nor tells a device its cursor is beyond it).
const sqliteHead = `MAX(COALESCE((SELECT MAX(seq) FROM sync_log), 0), COALESCE((SELECT CAST(value AS INTEGER) FROM server_meta WHERE key = 'gc_head'), 0))`

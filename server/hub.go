package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// hub knows the open sessions and which scopes each holds, so a commit can
// notify exactly the sessions whose scope grew.
//
// It also remembers, per scope, the last server_seq logged under it since
// the server started, so a pull whose scopes did not change since its cursor
// is answered without reading the store (readLog). The store reports every
// commit that adds to the log, in commit order, under its write lock
// (commitWatcher): so when head is published, every entry at or below it is
// accounted for.
type hub struct {
	mu      sync.Mutex
	conns   map[*conn]struct{}
	byScope map[string]map[*conn]struct{}

	seqMu    sync.RWMutex
	scopeSeq map[string]uint64 // scope -> highest seq logged under it since start
	base     uint64            // the log head when the server started
	head     atomic.Uint64     // published after scopeSeq is updated
	tracking atomic.Bool       // the store reports commits (start was called)
}

func newHub() *hub {
	return &hub{conns: map[*conn]struct{}{}, byScope: map[string]map[*conn]struct{}{}, scopeSeq: map[string]uint64{}}
}

// start sets the log head the server found at startup and turns the
// memory answer on.
func (h *hub) start(head uint64) {
	h.base = head
	h.head.Store(head)
	h.tracking.Store(true)
}

// logged records a commit: the highest seq it logged under each scope, and
// the log head after it. The store calls it in commit order.
func (h *hub) logged(scopes map[string]uint64, head uint64) {
	h.seqMu.Lock()
	for sc, seq := range scopes {
		if seq > h.scopeSeq[sc] {
			h.scopeSeq[sc] = seq
		}
	}
	h.seqMu.Unlock()
	maxStore(&h.head, head)
}

// unchanged reports whether no entry of scopes was logged in (after, head]
// and returns head; false means the store must be read.
func (h *hub) unchanged(after uint64, scopes []string) (uint64, bool) {
	if !h.tracking.Load() {
		return 0, false
	}
	head := h.head.Load() // before reading scopeSeq: see logged
	if after < h.base || after > head {
		return 0, false
	}
	h.seqMu.RLock()
	defer h.seqMu.RUnlock()
	for _, sc := range scopes {
		if h.scopeSeq[sc] > after {
			return 0, false
		}
	}
	return head, true
}

func (h *hub) add(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c] = struct{}{}
	for sc := range c.scope {
		m := h.byScope[sc]
		if m == nil {
			m = map[*conn]struct{}{}
			h.byScope[sc] = m
		}
		m[c] = struct{}{}
	}
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	for sc := range c.scope {
		if m := h.byScope[sc]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(h.byScope, sc)
			}
		}
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *hub) all() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

func (h *hub) device(id string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*conn
	for c := range h.conns {
		if c.dev.ID == id {
			out = append(out, c)
		}
	}
	return out
}

// notify tells every session holding one of scopes, except from, that the
// log grew to head. It never blocks: a notify coalesces with a pending one.
func (h *hub) notify(scopes map[string]bool, head uint64, from *conn) {
	h.mu.Lock()
	targets := map[*conn]struct{}{}
	for sc := range scopes {
		for c := range h.byScope[sc] {
			if c != from {
				targets[c] = struct{}{}
			}
		}
	}
	h.mu.Unlock()
	for c := range targets {
		c.notify(head)
	}
}

// limiter counts failed enrollment attempts per client address and in
// total, so a 40-bit code cannot be guessed: each address gets max failures
// per window, and all addresses together 20×max.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	by     map[string][]time.Time
	all    []time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, by: map[string][]time.Time{}}
}

func prune(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(since) {
		i++
	}
	return ts[i:]
}

func (l *limiter) allowed(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := now.Add(-l.window)
	l.all = prune(l.all, since)
	ts := prune(l.by[addr], since)
	if len(ts) == 0 {
		delete(l.by, addr)
	} else {
		l.by[addr] = ts
	}
	return len(ts) < l.max && len(l.all) < 20*l.max
}

func (l *limiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[addr] = append(l.by[addr], now)
	l.all = append(l.all, now)
	if len(l.by) > 100000 { // bound memory under a scan from many addresses
		clear(l.by)
	}
}

// commitWatcher is a store that reports each commit that grew the log:
// the highest seq logged under each scope and the head after it, in commit
// order (the SQLite store does). Without it every pull reads the store.
type commitWatcher interface {
	WatchCommits(func(scopes map[string]uint64, head uint64))
}

// readLog is Store.ReadLog, answered from memory when nothing in the
// query's scopes was logged after its cursor: an idle agent's pull then
// costs no database read.
func (s *Server) readLog(ctx context.Context, q LogQuery) (LogPage, error) {
	if head, ok := s.hub.unchanged(q.After, q.Scopes); ok {
		s.metrics.pullsIdle.Inc()
		return LogPage{To: head}, nil
	}
	return s.store.ReadLog(ctx, q)
}

package server

import (
	"sync"
	"time"
)

// hub knows the open sessions and which scopes each holds, so a commit can
// notify exactly the sessions whose scope grew.
type hub struct {
	mu      sync.Mutex
	conns   map[*conn]struct{}
	byScope map[string]map[*conn]struct{}
}

func newHub() *hub {
	return &hub{conns: map[*conn]struct{}{}, byScope: map[string]map[*conn]struct{}{}}
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

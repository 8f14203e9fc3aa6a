package server

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// hub knows the open sessions and which scopes each holds, so a commit can
// notify exactly the sessions whose scope grew.
//
// It also remembers, per scope, the last server_seq logged under it since
// the server started, so a pull whose scopes did not change since its cursor
// is answered without reading the store (readLog). The store reports every
// commit that adds to the log, in commit order, under its write lock
// (CommitFeed): so when head is published, every entry at or below it is
// accounted for.
type hub struct {
	mu      sync.Mutex
	conns   map[*conn]struct{}
	byScope map[string]map[*conn]struct{}
	byDev   map[string]map[*conn]struct{} // device id -> its sessions (one, but for a replacement under way)
	gen     atomic.Uint64                 // the last connection's order (conn.gen)

	seqMu    sync.RWMutex
	scopeSeq map[string]uint64 // scope -> highest seq logged under it since start
	base     uint64            // the log head when the server started (or its commit feed restarted)
	head     atomic.Uint64     // published after scopeSeq is updated
	// tail is the newest part of the log, in memory (logtail.go); it
	// holds nothing on a shared store, whose other processes' entries this
	// one is not handed.
	tail *logTail
	// restarts counts restarts (under seqMu): an answer read from memory
	// before one is not sent after it (Server.readLog).
	restarts atomic.Uint64
	tracking atomic.Bool // the store reports commits (start was called)
	// local is the highest log head this process committed itself on a
	// store shared by several processes (CommitFeed). Until the feed has
	// reported it, the hub does not know which scopes the commits between
	// its head and local touched, so pulls read the store: an agent told
	// of a commit (or pulling on its own) never gets an answer older than
	// a write this process has already acknowledged.
	local atomic.Uint64
}

func newHub(tail int) *hub {
	return &hub{conns: map[*conn]struct{}{}, byScope: map[string]map[*conn]struct{}{}, byDev: map[string]map[*conn]struct{}{},
		scopeSeq: map[string]uint64{}, tail: newLogTail(tail)}
}

// start sets the log head the server found at startup and turns the
// memory answer on.
func (h *hub) start(head uint64) { h.restart(head) }

// logged records a commit: the highest seq it logged under each scope, and
// the log head after it; and its entries in the tail. The store calls it in
// commit order.
func (h *hub) logged(ev CommitEvent) {
	h.seqMu.Lock()
	defer h.seqMu.Unlock()
	for sc, seq := range ev.Scopes {
		if seq > h.scopeSeq[sc] {
			h.scopeSeq[sc] = seq
		}
	}
	switch {
	case ev.Cut || (len(ev.Scopes) > 0 && ev.Entries == nil):
		// Entries deleted, or a commit whose entries the store did not
		// hand over: the tail no longer holds what the store would return.
		h.tail.reset(max(ev.Head, h.head.Load()))
	case len(ev.Entries) > 0 && ev.Entries[0].Seq == h.tailTop()+1:
		h.tail.add(ev.Entries)
	case len(ev.Entries) > 0:
		h.tail.reset(max(ev.Head, h.head.Load())) // a late commit below what the tail holds
	}
	maxStore(&h.head, ev.Head)
}

// tailTop is the highest seq the tail accounts for: its last entry's, or
// the head when it holds none above its floor (under seqMu).
func (h *hub) tailTop() uint64 {
	if n := len(h.tail.order); n > 0 {
		return h.tail.order[n-1]
	}
	return max(h.tail.floor, h.head.Load())
}

// fromTail answers q from the tail of the log held in memory, when the tail
// covers its cursor, with the restarts counted when it was read.
func (h *hub) fromTail(q LogQuery) (LogPage, uint64, bool) {
	if !h.tracking.Load() {
		return LogPage{}, 0, false
	}
	h.seqMu.RLock()
	defer h.seqMu.RUnlock()
	head := h.head.Load()
	if q.After < h.base || h.local.Load() > head {
		return LogPage{}, 0, false
	}
	page, ok := h.tail.read(q, head)
	return page, h.restarts.Load(), ok
}

// unchanged reports whether no entry of scopes was logged in (after, head]
// and returns head, and the restarts counted when it was read; false means
// the store must be read.
func (h *hub) unchanged(after uint64, scopes []string) (head, restarts uint64, ok bool) {
	if !h.tracking.Load() {
		return 0, 0, false
	}
	h.seqMu.RLock()
	defer h.seqMu.RUnlock()
	head = h.head.Load() // under seqMu: a reset (restart) changes base and head together
	if after < h.base || after > head || h.local.Load() > head {
		return 0, 0, false
	}
	for _, sc := range scopes {
		if h.scopeSeq[sc] > after {
			return 0, 0, false
		}
	}
	return head, h.restarts.Load(), true
}

// restart forgets what the hub knew of the log and starts again from head:
// a store shared by several processes lost its feed of their commits for a
// while (commitFeed), so only cursors at or above head can be answered
// from memory.
func (h *hub) restart(head uint64) {
	h.seqMu.Lock()
	clear(h.scopeSeq)
	h.base = head
	h.head.Store(head)
	h.tail.reset(head)
	h.restarts.Add(1)
	h.seqMu.Unlock()
	h.tracking.Store(true)
}

// notifyAll tells every session the log grew to head (its scopes unknown).
func (h *hub) notifyAll(head uint64) {
	for _, c := range h.all() {
		c.notify(head)
	}
}

// add registers c and returns the older sessions of its device, which c
// replaces, and whether a newer one is registered already, which replaces c.
func (h *hub) add(c *conn) (older []*conn, superseded bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	devs := h.byDev[c.dev.ID]
	if devs == nil {
		devs = map[*conn]struct{}{}
		h.byDev[c.dev.ID] = devs
	}
	for _, o := range inOrder(devs) {
		if o.gen > c.gen {
			superseded = true
		} else {
			older = append(older, o)
		}
	}
	devs[c] = struct{}{}
	h.conns[c] = struct{}{}
	for sc := range c.scope {
		m := h.byScope[sc]
		if m == nil {
			m = map[*conn]struct{}{}
			h.byScope[sc] = m
		}
		m[c] = struct{}{}
	}
	return older, superseded
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	if devs := h.byDev[c.dev.ID]; devs != nil {
		delete(devs, c)
		if len(devs) == 0 {
			delete(h.byDev, c.dev.ID)
		}
	}
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
	return inOrder(h.conns)
}

// inOrder lists a set of sessions oldest first. Every list the hub hands
// out is in this order, never a map's: what a caller does to each in turn
// (end it, which may wait for the message it is handling) then happens in
// the same order every time, which the deterministic simulation needs
// (internal/simtest: a team's sessions ended in map order made one seed's
// schedule differ from run to run, stop 33) and which ends the oldest
// sessions first.
func inOrder(set map[*conn]struct{}) []*conn {
	out := make([]*conn, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *conn) int { return cmp.Compare(a.gen, b.gen) })
	return out
}

func (h *hub) device(id string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return inOrder(h.byDev[id])
}

// notify tells every session holding one of scopes, except those of the
// device whose id is from (a pull never returns a device's own writes; ""
// and an id no device has, such as the server's own, except none), that
// the log grew to head. It never blocks: a notify coalesces with a pending
// one.
func (h *hub) notify(scopes map[string]bool, head uint64, from string) {
	h.mu.Lock()
	targets := map[*conn]struct{}{}
	for sc := range scopes {
		for c := range h.byScope[sc] {
			if c.dev.ID != from {
				targets[c] = struct{}{}
			}
		}
	}
	h.mu.Unlock()
	for _, c := range inOrder(targets) {
		c.notify(head)
	}
}

// CommitEvent is what a CommitFeed reports: a commit that grew the log
// (Scopes: the highest seq it logged under each scope; Head: the log head
// after it), or, with Restart set, that the feed (re)started and commits
// before it may have gone unreported: Head is the log head read after the
// feed started, Scopes is nil.
//
// A store this process alone writes also hands over the entries the commit
// logged (Entries, in seq order) and says whether it deleted any (Cut), so
// the hub keeps the log's tail in memory (logtail.go). A store that does
// not leaves Entries nil.
//
// Foreign marks a Restart for commits of another process on a store this
// process otherwise writes alone (the operator's CLI on the same SQLite
// file): found by the store, not heard of one by one.
type CommitEvent struct {
	Scopes  map[string]uint64
	Head    uint64
	Restart bool
	Foreign bool
	Entries []LogEntry
	Cut     bool
}

// CommitFeed is how a store reports the commits that grew its log, so the
// hub answers idle pulls from memory and knows whom to notify.
type CommitFeed interface {
	// Shared is whether other processes commit to the store too
	// (PostgreSQL), or this process alone (SQLite).
	Shared() bool
	// FeedCommits makes the store report every commit that grew the log,
	// in commit order, by calling fn; the first event is a Restart. A
	// store this process alone writes reports its commits while it holds
	// its write lock, so when a commit returns the hub has heard of it.
	// A shared store reports every process's commits from a goroutine of
	// its own, until it is closed.
	//
	// On a shared store the server feeds its hub from the feed alone (not
	// from its own pushes), so the hub's head only ever covers commits it
	// has heard of in order and the idle pull answer stays right across
	// processes; and it notifies its sessions of every reported commit, as
	// a local push does.
	FeedCommits(fn func(CommitEvent)) error
	// Quiet reports whether every commit to the store so far has been
	// reported, or is being reported by a write of this process under way.
	// An answer from memory (the hub's) stands only if Quiet holds after
	// it was read: a store another process may write without feeding its
	// commits (SQLite: the operator's CLI) says no then, and reports those
	// commits as a Foreign Restart. A store whose feed hears every process
	// always says yes.
	Quiet(ctx context.Context) bool
}

// committedLocally notes a commit of this process that grew the log to
// head (see hub.local); only a shared store's hub needs it.
func (s *Server) committedLocally(head uint64) {
	if s.shared && head > 0 {
		maxStore(&s.hub.local, head)
	}
}

// onCommit hears the store's CommitFeed.
func (s *Server) onCommit(ev CommitEvent) {
	if ev.Restart {
		s.hub.restart(ev.Head)
		if s.shared || ev.Foreign {
			// Commits this process did not hear of one by one: every
			// session may have something to pull. Whoever found them (a
			// write here, a pull's Quiet, the periodic check), the
			// sessions are told (review 41, helper 92). notify never
			// blocks nor takes a session's lock.
			s.hub.notifyAll(ev.Head)
		}
		return
	}
	s.hub.logged(ev)
	if !s.shared {
		return // the pushing session notifies (session.go)
	}
	scopes := make(map[string]bool, len(ev.Scopes))
	for sc := range ev.Scopes {
		scopes[sc] = true
	}
	s.hub.notify(scopes, ev.Head, "")
}

// checkForeign looks for another process's commits to the store (the
// operator's CLI) while no pull or commit here does: the Foreign Restart
// the store then reports notifies every session (onCommit), so their
// devices pull what it logged within Config.RevokeCheck, not at their
// next sync.
func (s *Server) checkForeign(ctx context.Context) { _ = s.store.Quiet(ctx) }

// stillTrue checks an answer the hub read from memory, after the read: no
// other process's commit preceded it unseen (Quiet), and no restart came
// between the read and this check. A restart another pull's Quiet made for
// such a commit leaves Quiet true for the pulls after it, which may have
// read memory before it (review 41, helper 90).
func (s *Server) stillTrue(ctx context.Context, restarts uint64) bool {
	return s.store.Quiet(ctx) && s.hub.restarts.Load() == restarts
}

// readLog is Store.ReadLog, answered from memory when nothing in the
// query's scopes was logged after its cursor: an idle agent's pull then
// costs no database read.
func (s *Server) readLog(ctx context.Context, q LogQuery) (LogPage, error) {
	if head, restarts, ok := s.hub.unchanged(q.After, q.Scopes); ok && s.stillTrue(ctx, restarts) {
		s.metrics.pullsIdle.Inc()
		return LogPage{To: head}, nil
	}
	if page, restarts, ok := s.hub.fromTail(q); ok && s.stillTrue(ctx, restarts) {
		s.metrics.pullsTail.Inc()
		return page, nil
	}
	return s.store.ReadLog(ctx, q)
}

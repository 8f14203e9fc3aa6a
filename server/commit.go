package server

import (
	"context"
	"errors"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The committer is the one write path of synced data: every write that
// reaches agents (a session's push, an import, a coordinator's report
// transition) is a writeReq on its queue, committed in a group's
// transaction (commit), after which the hub is told (the same function).
// Writes that do not sync (enrollment, devices, users, collection) go to
// the store directly.

// writeReq is one write waiting for the committer: a batch of changes made
// on another replica (changes), or a write of the server's own replica
// (own).
type writeReq struct {
	p       pusher
	changes []syncproto.Change
	pre     []checked
	today   string
	plans   map[RowRef]*rowPlan
	// own writes as the server's replica into the group's transaction
	// (batch.serverWrite). An *APIError it returns refuses this write
	// alone: it must return it before writing anything.
	own func(b *batch) error
	out *pushOutcome
	err error
	// done is closed once the group is committed (or failed) and the hub
	// told.
	done chan struct{}
}

// Group commit bounds: one transaction takes queued writes until it holds
// maxGroup of them or maxGroupChanges changes. Larger groups mean fewer
// fsyncs and fewer Notify rounds when many agents push at once; the bound
// keeps the first batch's wait short.
const (
	maxGroup        = 256
	maxGroupChanges = 20_000
)

// applyPush applies one Push and returns the per-change results once the
// transaction holding it has committed. Batches queued by several sessions
// at once are committed together (group commit: one fsync for all), each
// batch still all-or-nothing: a batch with a sequence gap is rejected
// before it writes anything (*gapError), and a store error fails the whole
// group, so nothing is acknowledged that was not committed.
func (s *Server) applyPush(ctx context.Context, p pusher, changes []syncproto.Change) (*pushOutcome, error) {
	today := schema.Today(s.now())
	r := &writeReq{p: p, changes: changes, pre: make([]checked, len(changes)), today: today}
	for i := range changes {
		r.pre[i] = precheck(&changes[i], today) // pure: outside the writer
		if r.pre[i].code != "" && p.schema > 0 {
			r.pre[i] = olderSchemaReason(p.schema, &changes[i], r.pre[i])
		}
	}
	r.plans = planRows(p, changes, r.pre, today, nil)
	return s.write(r)
}

// writeOwn commits a write of the server's own replica (see writeReq.own).
func (s *Server) writeOwn(own func(b *batch) error) (*pushOutcome, error) {
	return s.write(&writeReq{p: pusher{deviceID: "server", replica: s.writer}, own: own})
}

// write queues r for the committer and waits until its group committed.
func (s *Server) write(r *writeReq) (*pushOutcome, error) {
	r.done = make(chan struct{})
	select {
	case s.pushQ <- r: // under a Scheduler the queue has room (pushQueue)
	case <-s.commitDone:
		return nil, errShuttingDown
	}
	s.wait(r.done)
	return r.out, r.err
}

// pushQueue is the committer's queue: none in production (a write waits
// until the committer takes it), room for every write a simulation's
// tasks can queue under a Scheduler, whose tasks may not block on a
// channel.
func pushQueue(cfg Config) int {
	if cfg.Sched != nil {
		return 1 << 12
	}
	return 0
}

// committer owns the write path: it takes a write, adds whatever else is
// queued, and commits them together.
func (s *Server) committer() {
	defer close(s.commitDone)
	for {
		var first *writeReq
		if sch := s.cfg.Sched; sch != nil {
			// A task parks instead of selecting; what it then takes is
			// decided, not drawn (select picks at random).
			sch.Block(func() bool { return len(s.pushQ) > 0 || closed(s.commitStop) })
			if closed(s.commitStop) {
				return
			}
			first = <-s.pushQ
		} else {
			select {
			case first = <-s.pushQ:
			case <-s.commitStop:
				return
			}
		}
		group := append(s.group[:0], first)
		n := len(first.changes)
	fill:
		for len(group) < maxGroup && n < maxGroupChanges {
			select {
			case r := <-s.pushQ:
				group = append(group, r)
				n += len(r.changes)
			default:
				break fill
			}
		}
		s.group = group
		s.metrics.group.Observe(float64(len(group)))
		s.commit(group, n)
		for i, r := range group {
			close(r.done)
			group[i] = nil
		}
	}
}

// commit writes a group in one transaction and, once it is committed,
// tells the hub whose scopes grew: the one place where "commit, then
// notify" is written. A store error fails every write of the group.
func (s *Server) commit(group []*writeReq, changes int) {
	err := s.store.Update(context.Background(), func(tx Tx) error {
		// The group shares one row cache and saves it once: a row
		// several writes touch is loaded and written once.
		rows := make(map[RowRef]*rowCache, changes/4+1)
		if err := prefetch(tx, group, rows); err != nil {
			return err
		}
		for _, r := range group {
			if r.own != nil {
				r.out, r.err = s.applyOwn(tx, r, rows)
			} else {
				r.out, r.err = s.applyBatch(tx, r, rows)
			}
			if r.err != nil && !r.refusedAlone() {
				return r.err
			}
		}
		return (&batch{tx: tx, rows: rows}).flush()
	})
	s.noteWrite(err)
	if err != nil {
		for _, r := range group {
			r.out, r.err = nil, err
		}
		return
	}
	var head uint64
	for _, r := range group {
		if r.out != nil {
			head = max(head, r.out.head)
		}
	}
	s.committedLocally(head)
	for _, r := range group {
		// On a store shared by several processes the feed has not
		// reported this commit yet; the pulls this Notify causes read the
		// store until it has (hub.local), so the answer is never older
		// than the Notify. A device is not told of its own push.
		if r.err == nil && len(r.out.scopes) > 0 {
			s.hub.notify(r.out.scopes, r.out.head, r.p.deviceID)
		}
	}
}

// refusedAlone reports whether r's error refuses r alone, before it wrote
// anything, so the rest of the group commits: a batch's sequence gap, or
// an own write's *APIError (a report not found, a transition not allowed).
func (r *writeReq) refusedAlone() bool {
	if r.own != nil {
		var ae *APIError
		return errors.As(r.err, &ae)
	}
	var ge *gapError
	return errors.As(r.err, &ge)
}

// applyOwn runs a write of the server's own replica in the group's
// transaction.
func (s *Server) applyOwn(tx Tx, r *writeReq, rows map[RowRef]*rowCache) (*pushOutcome, error) {
	out := &pushOutcome{scopes: map[string]bool{}}
	if err := r.own(&batch{s: s, tx: tx, p: r.p, now: s.now(), rows: rows, out: out}); err != nil {
		return nil, err
	}
	return out, nil
}

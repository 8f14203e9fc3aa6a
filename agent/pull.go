package agent

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Grouping of pulled batches into one transaction (see pull).
const (
	pullGroupChanges = 40000                  // changes per transaction at most
	pullGroupTime    = 300 * time.Millisecond // a transaction takes no new batch after this
	pullQueue        = 4                      // batches received and not yet stored, at most
)

// pulled is what the pull pump hands to the storing loop.
type pulled struct {
	m   *syncproto.Changes
	err error
}

// pull asks for everything after the cursor and stores it. Two goroutines
// share the work: the pump receives each Changes and at once asks for the
// next page, so the server reads and sends it while this replica is still
// storing earlier ones; the storing loop (this goroutine) applies the
// batches that have arrived, several in one transaction when they queue up
// (bounded in changes and time; it never waits for the network with the
// transaction open), and commits them with the last one's To as the
// cursor. The queue between them is bounded, so a slow disk slows the
// pulls instead of filling memory. Every Pull carries Durable, the cursor
// this replica has committed: the server measures tombstone collection by
// it, never by the Cursor asked for.
func (s *syncRun) pull(ctx context.Context) error {
	err := s.pullLog(ctx)
	var se *ServerError
	if err != nil && errors.As(err, &se) && se.Code == syncproto.CodeBadCursor {
		// Below the floor of this replica's scopes: the entries it would
		// pull next were collected (a server restored from a backup whose
		// log was truncated refuses even a replay from the start). Clone
		// again (after pushing, as for Welcome.Reclone) in the next
		// session, which starts at once.
		return s.r.recloneDue(ctx, "the log after this replica's cursor was collected")
	}
	return err
}

func (s *syncRun) pullLog(ctx context.Context) (err error) {
	s.notified = false
	s.horizon = 0
	s.durable.Store(s.cursor)
	// A connection cut before a page was stored: smaller pages next time
	// (clonelimit.go). Deferred before the pump's stop, so it runs after.
	if err := s.pullLimit.load(ctx, s.r, s.opts.PullLimit); err != nil {
		return err
	}
	from := s.cursor
	defer func() { s.pullLimit.done(ctx, s.r, err, s.cursor != from) }()
	if err := s.sendPull(s.cursor); err != nil {
		return err
	}
	var notified atomic.Bool
	pp := &pullPump{s: s, expect: s.cursor, notified: &notified}
	var take func(wait bool) (pulled, bool, bool)
	if s.opts.Sched != nil {
		// No pump goroutine: this task receives each page when it needs
		// the next (asking for the one after it at once, as the pump does).
		take = func(wait bool) (pulled, bool, bool) { return pp.next(ctx, wait) }
		defer func() {
			if notified.Load() {
				s.notified = true
			}
		}()
	} else {
		pctx, cancel := context.WithCancel(ctx)
		queue := make(chan pulled, pullQueue)
		done := make(chan struct{})
		go func() {
			defer close(done)
			pp.run(pctx, queue)
		}()
		defer func() {
			cancel()
			<-done
			if notified.Load() {
				s.notified = true
			}
		}()
		take = func(wait bool) (pulled, bool, bool) {
			if !wait {
				select {
				case p, ok := <-queue:
					return p, ok, true
				default:
					return pulled{}, true, false
				}
			}
			// The pump stops without a word when ctx ends: do not wait for it.
			select {
			case p, ok := <-queue:
				return p, ok, true
			case <-ctx.Done():
				return pulled{err: ctx.Err()}, true, true
			}
		}
	}
	for {
		p, ok, _ := take(true)
		if !ok {
			if s.horizon != 0 {
				if err := s.sound(ctx); err != nil { // collection drops rows
					return err
				}
			}
			n, err := s.r.afterPull(ctx, s.cursor, s.horizon, s.sent.Load())
			if err != nil {
				return err
			}
			s.sum.Collected += n
			return s.r.checkpoint(ctx)
		}
		if p.err != nil {
			return p.err
		}
		if err := s.applyGroup(ctx, p.m, take); err != nil {
			return err
		}
	}
}

// pullPump receives the pull's Changes, asks for the next page as soon as
// one arrives (and once more after the last page if a Notify came
// meanwhile), and hands them to the storing loop: from a goroutine of its
// own through a queue (run), or to the storing task when it asks (next,
// under a Scheduler).
type pullPump struct {
	s        *syncRun
	expect   uint64
	notified *atomic.Bool
	done     bool // the last page was handed over
}

// run queues every page, and closes queue after the last.
func (pp *pullPump) run(ctx context.Context, queue chan<- pulled) {
	for {
		p, ok, _ := pp.next(ctx, true)
		if !ok {
			close(queue)
			return
		}
		select {
		case queue <- p:
		case <-ctx.Done():
			return
		}
		if p.err != nil {
			return
		}
	}
}

// next receives until it has a page (or an error) to hand over; ok false
// after the last page. Without wait it receives only what has arrived,
// and got false says nothing had.
func (pp *pullPump) next(ctx context.Context, wait bool) (p pulled, ok, got bool) {
	s := pp.s
	if pp.done {
		return pulled{}, false, true
	}
	for {
		if !wait && !s.w.ready() {
			return pulled{}, true, false
		}
		m, err := s.w.recv(ctx)
		if err != nil {
			pp.done = true
			return pulled{err: err}, true, true
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			pp.notified.Store(true)
			continue
		case *syncproto.Changes:
			if m.From != pp.expect {
				pp.done = true
				return pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "changes from %d, expected %d", m.From, pp.expect)}, true, true
			}
			pp.expect = m.To
			s.pullLimit.received()
			more := m.More
			if !more && pp.notified.Swap(false) {
				more = true // the log grew meanwhile: one more page
			}
			if more {
				if err := s.sendPull(m.To); err != nil {
					pp.done = true
					return pulled{err: err}, true, true
				}
			}
			if !more {
				pp.done = true
			}
			return pulled{m: m}, true, true
		default:
			pp.done = true
			return pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while pulling", m.Type())}, true, true
		}
	}
}

func (s *syncRun) sendPull(cursor uint64) error {
	d := s.durable.Load()
	s.sent.Store(d)
	return s.w.send(&syncproto.Pull{Cursor: cursor, Limit: s.pullLimit.ask(), Durable: d})
}

// applyGroup stores m, and the batches that arrived behind it (take
// without waiting), in one transaction.
func (s *syncRun) applyGroup(ctx context.Context, m *syncproto.Changes, take func(wait bool) (pulled, bool, bool)) error {
	if len(m.Changes)+len(m.Evict) > 0 {
		if err := s.sound(ctx); err != nil {
			return err
		}
	}
	if sch := s.opts.Sched; sch != nil {
		// The pump asked for the next page as this one arrived: under a
		// Scheduler nothing else runs while this task stores, so without
		// a wait here the next page is never there when take looks, and
		// pages are never stored together as the pump's queue has them
		// (the grouping below would go untested: a mutant that commits a
		// grouped page's cursor without applying it passed 600
		// simulated schedules). The wait comes before the transaction
		// opens, which never waits for the network.
		sch.Block(func() bool { return true })
	}
	g, err := s.r.beginPull(ctx)
	if err != nil {
		return err
	}
	defer g.rollback()
	start := s.opts.ioNow()
	n, pulled := 0, 0
	var last *syncproto.Changes
	// after is what the pump handed over behind the pages taken: a cut
	// that came right after a page arrived whole. Those pages are
	// committed first: rolled back with the cut, a link that drops just
	// after a page threw every page away, and the pull, having stored
	// nothing, asked for smaller pages thrown away likewise.
	var after error
	for m != nil {
		s.sum.RoundTrips++
		if err := g.apply(m); err != nil {
			return err
		}
		last = m
		n += len(m.Changes) + len(m.Evict)
		pulled += len(m.Changes)
		m = nil
		if n >= pullGroupChanges || s.opts.ioNow().Sub(start) >= pullGroupTime {
			break
		}
		p, ok, got := take(false)
		switch {
		case !got || !ok:
			// Nothing arrived, or the pump is done: commit (pull sees
			// the end at its next take).
		case p.err != nil:
			after = p.err
		default:
			m = p.m
		}
	}
	if err := g.commit(last.To); err != nil {
		return err
	}
	s.cursor = last.To
	s.durable.Store(last.To)
	if g.horizon != 0 {
		s.horizon = g.horizon
	}
	s.sum.Pulled += pulled
	s.sum.Conflicts += g.stats.conflicts
	s.sum.Evicted += g.stats.evicted
	s.hidden += g.stats.hidden
	if s.opts.Progress != nil {
		done := int(last.To - min(s.pullStart, last.To))
		s.opts.Progress(Progress{Phase: "pull", Done: done, Total: max(s.pullTotal, done)})
	}
	return after
}

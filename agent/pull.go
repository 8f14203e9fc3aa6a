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
	s.notified = false
	s.horizon = 0
	s.durable.Store(s.cursor)
	if err := s.sendPull(s.cursor); err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	queue := make(chan pulled, pullQueue)
	var notified atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.pump(pctx, queue, &notified)
	}()
	defer func() {
		cancel()
		<-done
		if notified.Load() {
			s.notified = true
		}
	}()
	for {
		var p pulled
		var ok bool
		// The pump stops without a word when ctx ends: do not wait for it.
		select {
		case p, ok = <-queue:
		case <-ctx.Done():
			return ctx.Err()
		}
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
		if err := s.applyGroup(ctx, p.m, queue); err != nil {
			return err
		}
	}
}

// pump receives the pull's Changes, asks for the next page as soon as one
// arrives (and once more after the last page if a Notify came meanwhile),
// and queues them for storing; it closes queue after the last page.
func (s *syncRun) pump(ctx context.Context, queue chan<- pulled, notified *atomic.Bool) {
	put := func(p pulled) bool {
		select {
		case queue <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	expect := s.cursor
	reset := false
	for {
		m, err := s.w.recv(ctx)
		var se *ServerError
		if errors.As(err, &se) && se.Code == syncproto.CodeBadCursor && !reset && expect == s.cursor {
			// The server's log is behind our cursor (it was restored from a
			// backup): start again from the beginning (§7.5).
			reset = true
			put(pulled{m: &syncproto.Changes{From: expect, To: 0, More: true}})
			expect = 0
			if err := s.sendPull(0); err != nil {
				put(pulled{err: err})
				return
			}
			continue
		}
		if err != nil {
			put(pulled{err: err})
			return
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			notified.Store(true)
			continue
		case *syncproto.Changes:
			if m.From != expect {
				put(pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "changes from %d, expected %d", m.From, expect)})
				return
			}
			expect = m.To
			more := m.More
			if !more && notified.Swap(false) {
				more = true // the log grew meanwhile: one more page
			}
			if more {
				if err := s.sendPull(m.To); err != nil {
					put(pulled{err: err})
					return
				}
			}
			if !put(pulled{m: m}) {
				return
			}
			if !more {
				close(queue)
				return
			}
		default:
			put(pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while pulling", m.Type())})
			return
		}
	}
}

func (s *syncRun) sendPull(cursor uint64) error {
	d := s.durable.Load()
	s.sent.Store(d)
	return s.w.send(&syncproto.Pull{Cursor: cursor, Limit: s.opts.PullLimit, Durable: d})
}

// applyGroup stores m, and the batches queued behind it, in one
// transaction.
func (s *syncRun) applyGroup(ctx context.Context, m *syncproto.Changes, queue <-chan pulled) error {
	if len(m.Changes)+len(m.Evict) > 0 {
		if err := s.sound(ctx); err != nil {
			return err
		}
	}
	g, err := s.r.beginPull(ctx)
	if err != nil {
		return err
	}
	defer g.rollback()
	start := time.Now()
	n, pulled := 0, 0
	var last *syncproto.Changes
	for m != nil {
		s.sum.RoundTrips++
		if err := g.apply(m); err != nil {
			return err
		}
		last = m
		n += len(m.Changes) + len(m.Evict)
		pulled += len(m.Changes)
		m = nil
		if n >= pullGroupChanges || time.Since(start) >= pullGroupTime {
			break
		}
		select {
		case p, ok := <-queue:
			switch {
			case !ok:
			case p.err != nil:
				return p.err
			default:
				m = p.m
			}
			if !ok {
				// The pump is done: commit, and let pull see the close.
				queue = nil
			}
		default:
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
	return nil
}

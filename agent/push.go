package agent

import (
	"context"

	"github.com/hamlet-vn/hamlet/syncproto"
)

type inflight struct {
	id      uint64
	changes []syncproto.Change
}

// push sends every pending change in batches, up to Window unacknowledged
// at once, and records each Ack in its own transaction. It starts at the
// oldest change awaiting a result: unacknowledged ones (≤ PushedSeq, their
// Ack was lost) come first.
func (s *syncRun) push(ctx context.Context) error {
	total, err := s.r.Pending(ctx)
	if err != nil {
		return err
	}
	done := 0
	var queue []inflight
	exhausted := false
	for {
		for !exhausted && len(queue) < s.opts.Window {
			cs, err := s.r.pendingBatch(ctx, s.pushedSeq, s.batch)
			if err != nil {
				return err
			}
			if s.forkDue {
				cs = upTo(cs, s.forkBound)
			}
			if len(cs) == 0 {
				exhausted = true
				break
			}
			if err := s.sound(ctx); err != nil {
				return err
			}
			if last := cs[len(cs)-1].Dot.Seq; last > s.sentSeq {
				marked, err := s.r.noteSent(ctx, last)
				if err != nil {
					return err
				}
				s.sentSeq = marked
			}
			s.nextBatch++
			if err := s.w.send(&syncproto.Push{Batch: s.nextBatch, Changes: cs}); err != nil {
				return err
			}
			queue = append(queue, inflight{id: s.nextBatch, changes: cs})
			s.pushedSeq = cs[len(cs)-1].Dot.Seq
		}
		if len(queue) == 0 {
			return nil
		}
		m, err := s.w.recv(ctx)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			s.notified = true
		case *syncproto.Ack:
			s.sum.RoundTrips++
			head := queue[0]
			if m.Batch != head.id {
				return syncproto.Errorf(syncproto.CodeUnexpected, "ack for batch %d, expected %d", m.Batch, head.id)
			}
			queue = queue[1:]
			rej, forked, err := s.r.applyAck(ctx, head.changes, m.Results)
			if err != nil {
				return err
			}
			if forked > 0 {
				// The server holds other content under these sequences:
				// nothing more is pushed under this replica id (fork.go).
				s.forkDue, s.forkBound, exhausted = true, 0, true
			}
			s.sum.Pushed += len(head.changes) - rej - forked
			s.sum.Rejected += rej
			done += len(head.changes)
			if s.opts.Progress != nil {
				s.opts.Progress(Progress{Phase: "push", Done: done, Total: max(total, done)})
			}
		default:
			return syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while pushing", m.Type())
		}
	}
}

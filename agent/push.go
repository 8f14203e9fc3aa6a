package agent

import (
	"context"
	"fmt"

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
			cs, err := s.r.pendingBatch(ctx, s.r.db, s.pushedSeq, s.batch)
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
			if cs[len(cs)-1].Dot.Seq > s.sentSeq {
				if cs, s.sentSeq, err = s.r.markSent(ctx, s.pushedSeq, s.batch, s.sentSeq); err != nil {
					return err
				}
				if s.forkDue {
					cs = upTo(cs, s.forkBound)
				}
				if len(cs) == 0 {
					exhausted = true
					break
				}
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
			rej, forked, err := s.r.applyAck(ctx, head.changes, m.Results, s.wel.PushedSeq)
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

// afterBatchRead, when a test sets it, runs between reading a batch that
// goes above sent_seq and recording it as sent (markSent).
var afterBatchRead func()

// markSent records every change up to the next batch to push (after seq
// after) as sent (sent_seq), and returns that batch as read in the same
// transaction. A change above sent_seq may still be rebased by a discard
// in another transaction (rebaseOffRefused): read before the mark and
// rebased before it, it went out with its old base while the outbox held
// the new one, and pushed again after a lost Ack, its digest differed and
// the server took the laptop for a copy (review 34c). The transaction
// holds the write lock, which no discard can take meanwhile.
func (r *Replica) markSent(ctx context.Context, after uint64, limit int, sent uint64) ([]syncproto.Change, uint64, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return nil, sent, err
	}
	defer t.rollback()
	cs, err := r.pendingBatch(ctx, t.tx, after, limit)
	if err != nil || len(cs) == 0 {
		return nil, sent, err
	}
	if afterBatchRead != nil {
		afterBatchRead()
	}
	marked, err := r.noteSent(ctx, t.tx, cs[len(cs)-1].Dot.Seq)
	if err != nil {
		return nil, sent, err
	}
	if err := t.commit(); err != nil {
		return nil, sent, fmt.Errorf("record the changes about to be sent: %w", err)
	}
	return cs, marked, nil
}

package agent

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// session runs one connection: handshake, push, pull, and in watch mode
// keeps going until the connection or ctx ends.
func (r *Replica) session(ctx context.Context, server, token string, opts SyncOptions, watch bool, sum *SyncSummary) (err error) {
	var sent, recv atomic.Int64
	defer func() {
		sum.BytesSent, sum.BytesReceived = sent.Load(), recv.Load()
		// This laptop's files fail as themselves, never as the network.
		err = netErr(server, r.Classify(err))
	}()
	w, err := r.dial(ctx, server, token, &opts, &sent, &recv)
	if err != nil {
		return err
	}
	defer w.close()

	helloAt := r.now()
	if err := w.send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: uint16(r.sch.Version()), Replica: r.id, Client: ClientName(), SentAt: helloAt.UnixMilli()}); err != nil {
		return err
	}
	m, err := w.recv(ctx)
	// A teammate's push may be announced before the Welcome (the server
	// counts the session from its upgrade): Welcome.Cursor covers it.
	for err == nil {
		if _, ok := m.(*syncproto.Notify); !ok {
			break
		}
		m, err = w.recv(ctx)
	}
	if err != nil {
		return err
	}
	sum.RoundTrips++
	wel, ok := m.(*syncproto.Welcome)
	if !ok {
		return syncproto.Errorf(syncproto.CodeUnexpected, "expected welcome, got %s", m.Type())
	}
	if err := r.welcome(ctx, wel, helloAt, r.now(), sum); err != nil {
		return err
	}
	batch := min(opts.BatchSize, int(wel.MaxChanges))
	if wel.MaxChanges == 0 {
		batch = opts.BatchSize
	}
	// A copy of another data folder pushes what it sent under this replica
	// id, then takes a new one (fork.go).
	bound, forkDue, err := r.forkBound(ctx, wel.PushedSeq)
	if err != nil {
		return err
	}
	// The push starts at the oldest change awaiting a result: unacknowledged
	// ones (≤ PushedSeq, their Ack was lost) come first.
	s := &syncRun{r: r, w: w, opts: &opts, sum: sum, batch: batch, forkDue: forkDue, forkBound: bound}
	cursor, err := r.metaInt(ctx, r.db, "cursor")
	if err != nil {
		return err
	}
	s.cursor = uint64(cursor)
	s.pullTotal = int(wel.Cursor) - int(s.cursor)
	s.pullStart = s.cursor
	needPull := wel.Cursor != s.cursor
	if !needPull {
		// The server learns what this replica stored only from a Pull's
		// Durable, and tells the collection horizon only in Changes (gc.go).
		if needPull, err = r.needsPull(ctx, s.cursor); err != nil {
			return err
		}
	}
	if err := s.push(ctx); err != nil {
		return err
	}
	if s.forkDue {
		return errForkDue
	}
	// A replica that never pulled, or whose log was truncated below its
	// cursor, clones by snapshot (clone.go), then pulls from its head. A
	// re-clone drops its rows first (needsClone), so the scope change
	// below has nothing to back-fill: the clone brings every hamlet.
	cl, err := s.needsClone(ctx, wel)
	if err != nil {
		return err
	}
	// After the push: drop lost hamlets, back-fill gained ones (scope.go).
	if err := s.rescope(ctx, wel.Scope); err != nil {
		return err
	}
	if cl {
		if err := s.clone(ctx); err != nil {
			return err
		}
		// Always pull after a clone: from the snapshot's head, and so the
		// server learns the cursor this replica holds (Pull.Durable).
		needPull = true
		s.pullStart, s.pullTotal = s.cursor, int(wel.Cursor)-int(s.cursor)
	}
	// A clone's deleted rows get their bounds (this session's clone, or
	// one whose session ended right after its last chunk).
	if err := r.noteClonedTombs(ctx); err != nil {
		return err
	}
	if needPull || s.notified || sum.Pushed > 0 {
		if err := s.pull(ctx); err != nil {
			return err
		}
	}
	if s.hidden > 0 {
		// The pull showed this replica's deletes missed edits and queued
		// the conflicts it records (hidden.go): the others hear of them now,
		// not at the next sync.
		s.hidden = 0
		if err := s.push(ctx); err != nil {
			return err
		}
	}
	if !watch {
		return nil
	}
	r.recordSync(ctx, nil)
	if opts.OnSync != nil {
		opts.OnSync(*sum, nil)
	}
	poll := time.NewTicker(opts.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case im, ok := <-w.in:
			if !ok {
				return io.ErrUnexpectedEOF
			}
			if im.err != nil {
				return im.err
			}
			switch m := im.m.(type) {
			case *syncproto.Notify:
				if m.Cursor <= s.cursor {
					continue
				}
			case *syncproto.ErrorMsg:
				return &ServerError{Code: m.Code, Msg: m.Msg, Fatal: m.Fatal}
			default:
				return syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while idle", m.Type())
			}
			before := *sum
			if err := s.pull(ctx); err != nil {
				return err
			}
			if opts.OnSync != nil {
				opts.OnSync(diff(*sum, before), nil)
			}
		case <-poll.C:
			n, err := r.Pending(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			before := *sum
			if err := s.push(ctx); err != nil {
				return err
			}
			if s.notified {
				if err := s.pull(ctx); err != nil {
					return err
				}
			}
			r.recordSync(ctx, nil)
			if opts.OnSync != nil {
				opts.OnSync(diff(*sum, before), nil)
			}
		}
	}
}

func diff(a, b SyncSummary) SyncSummary {
	a.Pushed -= b.Pushed
	a.Pulled -= b.Pulled
	a.Conflicts -= b.Conflicts
	a.Rejected -= b.Rejected
	a.Evicted -= b.Evicted
	a.RoundTrips -= b.RoundTrips
	a.Collected -= b.Collected
	return a
}

// welcome learns the clock offset and scope, and notes which pushes the
// server holds without their Ack having arrived (markUnacked).
func (r *Replica) welcome(ctx context.Context, w *syncproto.Welcome, sent, received time.Time, sum *SyncSummary) error {
	if w.Protocol != syncproto.ProtocolVersion {
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: fmt.Sprintf("server speaks protocol %d, this agent %d", w.Protocol, syncproto.ProtocolVersion)}
	}
	if int(w.MinSchema) > r.sch.Version() {
		a := syncproto.SchemaAdvice{Agent: r.sch.Version(), Min: int(w.MinSchema), Max: int(w.Schema)}
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: a.Err().Msg}
	}
	measured := syncproto.EstimateOffset(sent, received, time.UnixMilli(w.ServerTime))
	// Sub-second offsets are measurement noise: correcting them would only
	// jitter the order of writes from laptops whose clocks are right.
	off := syncproto.Correction(measured, received.Sub(sent))
	if err := setMeta(ctx, r.db, "offset_ms", off.Milliseconds()); err != nil {
		return err
	}
	r.setClock(off, r.clk().Last())
	if err := setMeta(ctx, r.db, "clock_last", int64(r.clk().Last())); err != nil {
		return err
	}
	bound := r.clk().MaxSkew()
	if w.MaxSkewMs > 0 {
		bound = time.Duration(w.MaxSkewMs) * time.Millisecond
	}
	sum.Offset = off
	sum.ClockWarning = off > bound || -off > bound
	sum.Scope = w.Scope
	if err := r.noteHeldScope(ctx); err != nil {
		return err
	}
	if err := r.updateScope(ctx, w.Scope); err != nil {
		return err
	}
	if err := r.closeRepairGaps(ctx, w.PushedSeq); err != nil { // repair.go
		return err
	}
	if _, err := r.markUnacked(ctx, w.PushedSeq); err != nil {
		return err
	}
	return nil
}

// syncRun is the state of one session's push and pull.
type syncRun struct {
	r         *Replica
	w         *wire
	opts      *SyncOptions
	sum       *SyncSummary
	batch     int
	pushedSeq uint64 // highest seq sent (or held by the server)
	forkDue   bool   // a new replica id is due (fork.go): push nothing above forkBound
	forkBound uint64
	sentSeq   uint64 // highest seq recorded as sent (noteSent) this session
	nextBatch uint64
	cursor    uint64
	pullTotal int
	pullStart uint64
	notified  bool
	durable   atomic.Uint64 // the cursor committed, for Pull.Durable
	horizon   uint64        // the latest Changes.Horizon of this pull (gc.go)
	hidden    int           // edits the pull found under this replica's deletes (hidden.go)
	sent      atomic.Uint64 // the Durable of the last Pull sent
}

package agent

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// session runs one connection as a list of phases, in this order; each
// says itself when it has nothing to do. In watch mode the connection then
// stays open (idle) until it or ctx ends.
func (r *Replica) session(ctx context.Context, server, token string, opts SyncOptions, watch bool, sum *SyncSummary) (err error) {
	var sent, recv atomic.Int64
	start := opts.ioNow()
	dialed := false
	defer func() {
		sum.BytesSent, sum.BytesReceived = sent.Load(), recv.Load()
		// This laptop's files fail as themselves, never as the network.
		err = netErr(server, r.Classify(err), dialed)
	}()
	w, err := r.dial(ctx, server, token, &opts, &sent, &recv)
	if err != nil {
		return err
	}
	dialed = true
	defer w.close()
	s := &syncRun{r: r, w: w, opts: &opts, sum: sum, start: start, sentBytes: &sent, recvBytes: &recv}
	s.limit.steps, s.pullLimit.steps = cloneSteps, pullSteps
	for _, phase := range []func(context.Context) error{
		s.handshake,        // Hello, then Welcome: clock offset, scope, what the server holds; always
		s.plan,             // batch size, fork bound, cursor, whether to pull; always
		s.push,             // every change not acknowledged yet; sends nothing when none is
		s.stopIfCopy,       // a copied folder ends the session to take a new id; skipped otherwise
		s.decideClone,      // whether to clone by snapshot (a clone lists synced rows to replace); always
		s.followScope,      // drop lost hamlets, back-fill gained ones; nothing when the scope is held
		s.cloneIfDue,       // snapshot clone of the scope; skipped unless decideClone chose it
		s.boundClonedTombs, // bounds for a clone's deleted rows; nothing when no clone left any
		s.pullIfDue,        // the log after the cursor; skipped when there is nothing to pull or report
		s.pushHidden,       // the conflicts the pull found under local deletes; skipped when none
		s.tellFilled,       // a back-fill ended here or in a session cut since; nothing otherwise
		s.tellLost,         // hamlets lost here or in a session cut since; nothing otherwise
		s.tellCloned,       // a clone ended here or in a session cut since; nothing otherwise
		s.tellForked,       // a fork made here or before a session cut since; nothing otherwise
	} {
		if err := phase(ctx); err != nil {
			return err
		}
	}
	if !watch {
		return nil
	}
	return s.idle(ctx)
}

// greet sends this replica's Hello, stamped at, and returns the server's
// answer. A teammate's push may be announced before the Welcome (the
// server counts the session from its upgrade; Welcome.Cursor covers it):
// Notify messages before the answer are skipped.
func (r *Replica) greet(ctx context.Context, w *wire, at time.Time) (syncproto.Message, error) {
	if err := w.send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: uint16(r.sch.Version()), Replica: r.id, Client: ClientName(), SentAt: at.UnixMilli()}); err != nil {
		return nil, err
	}
	for {
		m, err := w.recv(ctx)
		if err != nil {
			return nil, err
		}
		if _, ok := m.(*syncproto.Notify); !ok {
			return m, nil
		}
	}
}

// handshake sends Hello and reads Welcome (skipping the Notify a teammate's
// push may send first), then learns from it (welcome).
func (s *syncRun) handshake(ctx context.Context) error {
	r := s.r
	// What the server had acknowledged before Hello: it holds all of it
	// when it answers, unless it lost some (resendLost). Read at the
	// Welcome instead, it took in the Acks another handle on this file
	// had meanwhile (the app syncing in the background while
	// `hamlet-agent sync` runs), for changes above the PushedSeq the
	// server read at Hello: a loss, a fork and "Máy chủ đã mất" for
	// nothing (helper 247).
	ackedBefore, err := r.metaUint(ctx, r.db, metaAckedSeq)
	if err != nil {
		return err
	}
	helloAt := r.now()
	m, err := r.greet(ctx, s.w, helloAt)
	if err != nil {
		return err
	}
	s.sum.RoundTrips++
	wel, ok := m.(*syncproto.Welcome)
	if !ok {
		return syncproto.Errorf(syncproto.CodeUnexpected, "expected welcome, got %s", m.Type())
	}
	s.wel = wel
	// When the Welcome arrived, before the damage check (which may take
	// a while): the clock's measurement is only as good as this time.
	s.measuredAt = r.now()
	busy, checked, err := r.busy(ctx, wel)
	if err != nil {
		return err
	}
	// The damage check's note is written with the clock's (takeClock), in
	// its write transaction rather than one of its own: losing it to a
	// cut sync only has the next sync check again.
	var checkedAt int64
	if busy || r.checkDue(checked) {
		if checkedAt, err = s.check(ctx); err != nil {
			return err
		}
	}
	return r.welcome(ctx, wel, helloAt, s.measuredAt, ackedBefore, s.sum, busy, checkedAt)
}

// sound is the damage check (DamageCheck: the marker, then SQLite's
// quick_check, which reads every page), once per session, before the
// session writes any record: its first push, clone, pulled page with
// changes, scope change or collection. A sync with nothing to send or
// receive writes no record and skips it: on a commune's replica the check
// alone took 20-40 ms, more than the rest of a no-op sync together, which
// only confirms metadata (unchanged values are not even written, setMeta)
// and notes the time of the sync. Damage that no write has met yet is
// still found within a day: a session checks when the last check is
// older (checkDue).
func (s *syncRun) sound(ctx context.Context) error {
	at, err := s.check(ctx)
	if err != nil || at == 0 {
		return err
	}
	return setMeta(ctx, s.r.writer(), metaChecked, at)
}

// check is sound without its note: the time to note as damage_checked,
// 0 when the check ran before in this session.
func (s *syncRun) check(ctx context.Context) (at int64, err error) {
	if s.checked {
		return 0, nil
	}
	s.checked = true
	if err := s.r.DamageCheck(ctx); err != nil {
		return 0, err
	}
	return s.r.now().UnixMilli(), nil
}

// metaChecked is when the damage check last found the file sound.
const metaChecked = "damage_checked"

// checkInterval is how long a replica goes without the damage check when
// its syncs write no record.
const checkInterval = 24 * time.Hour

// checkDue: the damage check is due, by damage_checked's text as busy
// read it.
func (r *Replica) checkDue(checked string) bool {
	at, err := r.noteInt(metaChecked, checked)
	return err != nil || r.now().Sub(time.UnixMilli(at)) >= checkInterval
}

// busy: the session will write records, by what the Welcome says and the
// replica holds: changes to push, a log to pull, a clone to run or
// resume, a scope that moved, a repair to settle. checked is the text of
// damage_checked (checkDue), read with the rest, "" when the Welcome
// asks for a clone: the handshake's reads are one statement.
func (r *Replica) busy(ctx context.Context, wel *syncproto.Welcome) (busy bool, checked string, err error) {
	if wel.Reclone {
		return true, "", nil
	}
	var n int
	var held, at any
	err = r.db.QueryRowContext(ctx, `SELECT (SELECT EXISTS (SELECT 1 FROM outbox WHERE state IN (?1, ?2)))
		+ (SELECT EXISTS (SELECT 1 FROM outbox_rows WHERE state IN (?1, ?2)))
		+ (SELECT count(*) FROM agent_meta WHERE key IN ('clone_head', ?3, ?4, ?5, ?6, ?7) AND value IS NOT NULL AND value NOT IN (0, '', '[]'))
		+ (SELECT count(*) FROM agent_meta WHERE key = 'cursor' AND value IS NOT ?8),
		(SELECT value FROM agent_meta WHERE key = ?9), (SELECT value FROM agent_meta WHERE key = ?10)`,
		outboxPending, outboxUnacked, metaReclone, metaRepairGaps, metaBackfillScopes, metaScopeWritten, metaScopeStray, int64(wel.Cursor),
		metaScopeHeld, metaChecked).Scan(&n, &held, &at)
	if err != nil || n > 0 {
		return true, metaText(at), err
	}
	list, ok, err := r.noteList(metaText(held))
	if err != nil || !ok {
		return true, metaText(at), err
	}
	return !slices.Equal(sortedCopy(list), sortedCopy(wel.Scope)), metaText(at), nil
}

// plan reads, before anything is sent, what the session has to do: the
// push's batch size and fork bound, the pull's cursor and whether a pull
// is needed even if the server's log did not grow.
func (s *syncRun) plan(ctx context.Context) error {
	r, wel := s.r, s.wel
	s.batch = min(s.opts.BatchSize, int(wel.MaxChanges))
	if wel.MaxChanges == 0 {
		s.batch = s.opts.BatchSize
	}
	notes, err := r.planNotes(ctx)
	if err != nil {
		return err
	}
	// A copy of another data folder pushes what it sent under this replica
	// id, then takes a new one (fork.go).
	var wrote bool
	if s.forkBound, s.forkDue, wrote, err = r.forkBound(ctx, wel.PushedSeq, notes); err != nil {
		return err
	}
	if wrote {
		// Its write may have waited for another process's: what follows
		// is read after it, as it was read one by one.
		if notes, err = r.planNotes(ctx); err != nil {
			return err
		}
	}
	cursor, err := r.noteInt("cursor", notes.cursor)
	if err != nil {
		return err
	}
	s.cursor = uint64(cursor)
	epoch, err := r.noteInt(metaLogEpoch, notes.epoch)
	if err != nil {
		return err
	}
	// The server's log ends below what this replica pulled, or it is
	// another epoch of the log (restored from a backup since, §7.1): its
	// entries past the restore point are new here whatever their numbers,
	// even below the cursor, once other laptops' pushes carried the head
	// past it. The push below may carry the head past the old cursor
	// before the pull asks, and then nothing would refuse that cursor: the
	// log is replayed from the start now (a re-clone, below), and the
	// cursor stored says so, with the epoch, in case this session ends
	// before its pull.
	newEpoch := uint64(epoch) != wel.LogEpoch
	if s.serverBehind = s.cursor > wel.Cursor || s.cursor > 0 && newEpoch; s.serverBehind || newEpoch {
		if s.serverBehind {
			cursor, s.cursor = 0, 0
		} // else it never pulled: it clones, under the new epoch
		t, err := r.begin(ctx)
		if err != nil {
			return err
		}
		defer t.rollback()
		if err := t.setMeta("cursor", cursor); err != nil {
			return err
		}
		if err := t.setMeta(metaLogEpoch, int64(wel.LogEpoch)); err != nil { // the bits of the uint64
			return err
		}
		if s.serverBehind {
			// The log it pulled held entries the restored one lacks: the
			// server's own writes (a coordinator's dispatch), another
			// laptop's acknowledged change whose author never sends it
			// again. Replayed, the restored log never takes them back: LWW
			// keeps the later version, lost, for good (a fresh clone holds
			// the report "submitted", this laptop "dispatched"). A re-clone
			// after the push replaces the synced rows by the snapshot, own
			// writes still waiting kept (holdSynced), as after a fork. A
			// row with a refused change is replaced too (no metaResentKeep,
			// which merged the snapshot into it and kept a lost edit: helper
			// 308); its refusal stays on the rejected list.
			if err := t.setMeta(metaReclone, 1); err != nil {
				return err
			}
		}
		if newEpoch {
			// A clone or a back-fill cut before the restore would resume from
			// the old log's head, and pull from it after: they start again,
			// their rows merging as duplicates (helper 136's review).
			if err := t.clearClone(); err != nil {
				return err
			}
			// Its state but the hamlets (backfillKeys[1:]): the running
			// count, and its partial mark (metaBackfillPartial), start
			// again with it; a mark kept hid the count of a back-fill
			// that, started again, counts its own hamlets alone.
			for _, k := range backfillKeys[1:] {
				if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
					return err
				}
			}
		}
		if err := t.commit(); err != nil {
			return err
		}
		if notes, err = r.planNotes(ctx); err != nil { // read after the write, as forkBound's
			return err
		}
	}
	s.pullTotal = int(wel.Cursor) - int(s.cursor)
	s.pullStart = s.cursor
	s.needPull = wel.Cursor != s.cursor
	if !s.needPull {
		// The server learns what this replica stored only from a Pull's
		// Durable, and tells the collection horizon only in Changes (gc.go).
		if s.needPull, err = r.needsPull(notes, s.cursor); err != nil {
			return err
		}
	}
	return nil
}

// planNotes are what plan reads of the replica before it sends anything:
// the notes, and whether the outbox holds refusals as a copy and the
// replica tombstones. One statement reads them all, at one moment (they
// were seven reads, each taking SQLite's read lock, at every sync).
type planNotes struct {
	forkDue, sentSeq, cursor, epoch, durableSent string
	// forkedRefused: the outbox holds changes the server refused as
	// replica_forked (forkBound).
	forkedRefused bool
	tombs         bool // the replica holds tombstones (needsPull)
}

func (r *Replica) planNotes(ctx context.Context) (*planNotes, error) {
	var p planNotes
	var due, sent, cursor, epoch, durable any
	err := r.db.QueryRowContext(ctx, `SELECT (SELECT value FROM agent_meta WHERE key = ?1),
		(SELECT value FROM agent_meta WHERE key = ?2), (SELECT value FROM agent_meta WHERE key = ?3),
		(SELECT value FROM agent_meta WHERE key = ?4), (SELECT value FROM agent_meta WHERE key = ?5),
		EXISTS (SELECT 1 FROM outbox WHERE state = ?6 AND code = ?7), EXISTS (SELECT 1 FROM tombs)`,
		metaForkDue, "sent_seq", "cursor", metaLogEpoch, "durable_sent",
		outboxRejected, string(syncproto.CodeReplicaForked)).Scan(&due, &sent, &cursor, &epoch, &durable, &p.forkedRefused, &p.tombs)
	if err != nil {
		return nil, fmt.Errorf("reading what the sync has to do: %w", err)
	}
	p.forkDue, p.sentSeq, p.cursor, p.epoch, p.durableSent = metaText(due), metaText(sent), metaText(cursor), metaText(epoch), metaText(durable)
	return &p, nil
}

// stopIfCopy ends the session with errForkDue when this data folder turned
// out to be a copy (fork.go): Sync and Watch then take a new replica id.
func (s *syncRun) stopIfCopy(context.Context) error {
	if s.forkDue {
		return errForkDue
	}
	return nil
}

// decideClone: a replica that never pulled, or whose log was truncated
// below its cursor, clones by snapshot (clone.go), then pulls from its
// head. A re-clone lists its rows for the snapshot to replace and sets
// the cursor to 0 first (needsClone), so the scope change after it has
// nothing to back-fill: the clone brings every hamlet.
func (s *syncRun) decideClone(ctx context.Context) (err error) {
	s.cloning, err = s.needsClone(ctx, s.wel)
	return err
}

// followScope, after the push, drops the hamlets the team lost and
// back-fills the ones it gained (scope.go).
func (s *syncRun) followScope(ctx context.Context) error { return s.rescope(ctx, s.wel.Scope) }

// cloneIfDue runs or resumes the snapshot clone decideClone chose.
func (s *syncRun) cloneIfDue(ctx context.Context) error {
	if !s.cloning {
		return nil
	}
	if err := s.clone(ctx); err != nil {
		return err
	}
	// Always pull after a clone: from the snapshot's head, and so the
	// server learns the cursor this replica holds (Pull.Durable).
	s.needPull = true
	s.pullStart, s.pullTotal = s.cursor, int(s.wel.Cursor)-int(s.cursor)
	return nil
}

// boundClonedTombs gives a clone's deleted rows their bounds (this
// session's clone, or one whose session ended right after its last chunk;
// gc.go).
func (s *syncRun) boundClonedTombs(ctx context.Context) error { return s.r.noteClonedTombs(ctx) }

// pullIfDue pulls when the server's log grew, a push or a Notify may have
// added to it, or the server must hear what this replica stored (plan).
func (s *syncRun) pullIfDue(ctx context.Context) error {
	if !s.needPull && !s.notified && s.sum.Pushed == 0 {
		return nil
	}
	return s.pull(ctx)
}

// pushHidden: the pull showed this replica's deletes missed edits and
// queued the conflicts it records (hidden.go); the others hear of them
// now, not at the next sync.
func (s *syncRun) pushHidden(ctx context.Context) error {
	if s.hidden == 0 {
		return nil
	}
	s.hidden = 0
	return s.push(ctx)
}

// idle keeps a watch session open: it pulls when the server notifies and
// pushes local writes it finds every PollInterval, until the connection
// or ctx ends (nil when ctx ended).
func (s *syncRun) idle(ctx context.Context) error {
	r, opts, sum := s.r, s.opts, s.sum
	s.measure()
	told := *sum
	r.recordSync(ctx, nil, opts.told(&told)) // told just below (OnSync)
	if opts.OnSync != nil {
		opts.OnSync(told, nil)
	}
	poll := s.newPoll()
	defer poll.stop()
	for {
		im, ok, polled, err := s.awaitIdle(ctx, poll)
		if err != nil {
			return nil // ctx ended
		}
		if !polled {
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
			s.measure()
			before := *sum
			if err := s.pull(ctx); err != nil {
				return err
			}
			s.measure()
			if opts.OnSync != nil {
				opts.OnSync(diff(*sum, before), nil)
			}
			continue
		}
		// The file marked damaged or replaced by a repair since this
		// session began (markCheck, two stats): the session ends as the
		// next one would not start. Left to the writes, a session with
		// nothing to send read its old file, found nothing pending there
		// every poll, and idled on it for as long as the app stayed open,
		// the sync page saying all was sent while every save was refused
		// (and sync --watch never sent what was saved into the repaired
		// file).
		if err := r.markCheck(); err != nil {
			return err
		}
		n, err := r.Pending(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if s.stale() {
			return errRemeasure // Watch reconnects and measures first (clock.go)
		}
		s.measure()
		before := *sum
		if err := s.push(ctx); err != nil {
			return err
		}
		if s.notified {
			if err := s.pull(ctx); err != nil {
				return err
			}
		}
		r.recordSync(ctx, nil, nil)
		s.measure()
		if opts.OnSync != nil {
			opts.OnSync(diff(*sum, before), nil)
		}
	}
}

// idlePoll is idle's PollInterval: a ticker, or the next poll on the
// Scheduler's time.
type idlePoll struct {
	t    *time.Ticker
	next time.Time
}

func (s *syncRun) newPoll() *idlePoll {
	if s.opts.Sched != nil {
		return &idlePoll{next: s.opts.Sched.Now().Add(s.opts.PollInterval)}
	}
	return &idlePoll{t: time.NewTicker(s.opts.PollInterval)}
}

func (p *idlePoll) stop() {
	if p.t != nil {
		p.t.Stop()
	}
}

// awaitIdle waits for a message (ok false: the connection's reader is
// done), a poll (polled), or ctx's end (err).
func (s *syncRun) awaitIdle(ctx context.Context, p *idlePoll) (im inMsg, ok, polled bool, err error) {
	w := s.w
	if sch := s.opts.Sched; sch != nil {
		sch.Block(func() bool { return ctx.Err() != nil || w.ready() || !sch.Now().Before(p.next) })
		switch {
		case ctx.Err() != nil:
			return im, false, false, ctx.Err()
		case w.ready():
			return w.read(), true, false, nil
		default:
			p.next = sch.Now().Add(s.opts.PollInterval)
			return im, false, true, nil
		}
	}
	select {
	case <-ctx.Done():
		return im, false, false, ctx.Err()
	case im, ok = <-w.in:
		return im, ok, false, nil
	case <-p.t.C:
		return im, false, true, nil
	}
}

// measure notes on the session's summary the bytes on its connection and
// the time since it began, so far: a summary told while the session stays
// open says them, and diff takes a part's from two measures. (Counted only
// when the session closed, every summary of an open one said "0 byte
// trong 0 giây".)
func (s *syncRun) measure() {
	s.sum.BytesSent, s.sum.BytesReceived = s.sentBytes.Load(), s.recvBytes.Load()
	s.sum.Duration = s.opts.ioNow().Sub(s.start)
}

// diff is what the session's summary a did since b, both measured
// (measure): the counts, bytes and time of that part alone.
func diff(a, b SyncSummary) SyncSummary {
	a.Pushed -= b.Pushed
	a.BytesSent -= b.BytesSent
	a.BytesReceived -= b.BytesReceived
	a.Duration -= b.Duration
	a.Pulled -= b.Pulled
	a.Conflicts -= b.Conflicts
	a.Rejected -= b.Rejected
	a.Evicted -= b.Evicted
	a.RoundTrips -= b.RoundTrips
	a.Collected -= b.Collected
	a.Cloned -= b.Cloned
	a.Resent -= b.Resent
	// What the session did before it idled was told with its first
	// summary: an idle pull told the clone again ("nhận 40" for 10, the
	// download finished), a gained hamlet or a fork again, with every
	// change a teammate sent; the app counted the clone again.
	if a.Cloned == 0 {
		a.ClonedLive = nil
	}
	a.CloneHeld, a.CloneRows = nil, 0
	if a.ScopeChange == b.ScopeChange {
		a.ScopeChange = nil
	}
	if a.Fork == b.Fork {
		a.Fork = nil
	}
	a.told = nil // the notes, too, went with the first summary
	return a
}

// welcome learns the clock offset and scope, and notes which pushes the
// server holds without their Ack having arrived (markUnacked). ackedBefore
// is this file's acknowledged sequence read before Hello (resendLost).
// busy is what busy said: when false, no change was pending or unacknowledged and
// no repair gap open, and a change written since has a sequence above any
// the server can hold (the "seq" counter only rises), so markUnacked
// would find nothing: its write transaction is skipped (issue 20).
// checkedAt, unless 0, is when the damage check found the file sound
// this session (check), noted with the clock.
func (r *Replica) welcome(ctx context.Context, w *syncproto.Welcome, sent, received time.Time, ackedBefore uint64, sum *SyncSummary, busy bool, checkedAt int64) error {
	if w.Protocol != syncproto.ProtocolVersion {
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: fmt.Sprintf("server speaks protocol %d, this agent %d", w.Protocol, syncproto.ProtocolVersion)}
	}
	if int(w.MinSchema) > r.sch.Version() {
		a := syncproto.SchemaAdvice{Agent: r.sch.Version(), Min: int(w.MinSchema), Max: int(w.Schema)}
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: a.Err().Msg}
	}
	// The clock first, before anything is pushed: the writes no server
	// holds yet are restamped by this measurement (clock.go).
	sample, off := measured(sent, received, w.ServerTime)
	if _, err := r.takeClock(ctx, sample, w.PushedSeq, checkedAt); err != nil {
		return err
	}
	sum.Offset = off
	sum.ClockWarning = off > syncproto.ClockWarnAfter || -off > syncproto.ClockWarnAfter
	sum.Scope = w.Scope
	// A replica that holds nothing yet (it never pulled, wrote nor began a
	// clone) holds the Welcome's scope: its team's hamlets may have changed
	// since it enrolled, and a first sync is not a change to report.
	n, err := r.scopeNotes(ctx)
	if err != nil {
		return err
	}
	if holds, err := r.holdsDataOf(n); err != nil {
		return err
	} else if !holds {
		// One statement, one write transaction: the three notes
		// change together or not at all.
		if err := setMetas(ctx, r.writer(), metaScopeHeld, listJSON(w.Scope), metaScopeWritten, "", metaScopeStray, ""); err != nil {
			return err
		}
	} else if err := r.noteScope(ctx, n); err != nil {
		return err
	}
	if err := r.updateScope(ctx, w.Scope); err != nil {
		return err
	}
	if _, err := r.resendLost(ctx, w.PushedSeq, ackedBefore); err != nil { // restored.go; told from its note (tellFork)
		return err
	}
	if err := r.closeRepairGaps(ctx, w.PushedSeq); err != nil { // repair.go
		return err
	}
	if !busy {
		return nil
	}
	if _, err := r.markUnacked(ctx, w.PushedSeq); err != nil {
		return err
	}
	return nil
}

// syncRun is the state of one session: what its phases learn and decide
// (session), and the push's and the pull's positions.
type syncRun struct {
	r         *Replica
	w         *wire
	opts      *SyncOptions
	sum       *SyncSummary
	start     time.Time     // the session's, for its summaries' time (measure)
	sentBytes *atomic.Int64 // the connection's bytes, both ways (measure)
	recvBytes *atomic.Int64
	wel       *syncproto.Welcome // the server's Welcome (handshake)
	needPull  bool               // pull even if nothing was pushed nor notified (plan, cloneIfDue)
	cloning   bool               // this session clones by snapshot (decideClone)
	batch     int
	pushedSeq uint64 // highest seq sent (or held by the server)
	forkDue   bool   // a new replica id is due (fork.go): push nothing above forkBound
	forkBound uint64
	sentSeq   uint64 // highest seq recorded as sent (noteSent) this session
	nextBatch uint64
	cursor    uint64
	pullTotal int
	pullStart uint64
	// serverBehind: the server's log ended below this replica's cursor at
	// Welcome (it was restored from a backup): the session replays the
	// log from the start (plan), rather than clone as a replica that
	// never pulled does (needsClone).
	serverBehind bool
	notified     bool
	checked      bool          // the damage check ran this session (sound)
	durable      atomic.Uint64 // the cursor committed, for Pull.Durable
	horizon      uint64        // the latest Changes.Horizon of this pull (gc.go)
	hidden       int           // edits the pull found under this replica's deletes (hidden.go)
	sent         atomic.Uint64 // the Durable of the last Pull sent
	limit        chunkLimit    // rows per snapshot chunk a clone asks for (clonelimit.go)
	pullLimit    chunkLimit    // changes per page a pull from the log asks for (clonelimit.go)

	// measuredAt is when Welcome measured the clock (with the monotonic
	// reading when the clock has one): see stale (clock.go).
	measuredAt time.Time
}

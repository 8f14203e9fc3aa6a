package simtest

import (
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The invariants held at every step (issue 17), each cheap: none reads a
// whole store. What the harness sees travel is held as it travels: an Ack
// as it reaches its agent (checkAck); the laptops' clocks after every
// step (checkStep).

// checkStep holds the invariants that hold at every step.
func (s *Sim) checkStep() {
	s.checkClocks()
}

// notePush keeps the changes of a Push the server received on this link,
// for its Ack (checkAck). A Push duplicated on the way keeps its batch's
// changes, the same.
func (l *link) notePush(m syncproto.Message) {
	p, ok := m.(*syncproto.Push)
	if !ok {
		return
	}
	if l.pushes == nil {
		l.pushes = map[uint64][]syncproto.Change{}
	}
	l.pushes[p.Batch] = p.Changes
}

// noteRevoked marks a Push the server receives on this link while its
// device's revocation stands committed: the server re-reads the device
// before each Push (server/devices.go authorizedLocked), so it must not
// acknowledge it unless a restore began since (checkAck).
func (l *link) noteRevoked(m syncproto.Message) {
	p, ok := m.(*syncproto.Push)
	if !ok || l.device == "" {
		return
	}
	if !l.s.revokedNow[l.device] {
		if l.allowedPush == nil {
			l.allowedPush = map[uint64]bool{}
		}
		l.allowedPush[p.Batch] = true
		return
	}
	if l.revokedPush == nil {
		l.revokedPush = map[uint64]int{}
	}
	l.revokedPush[p.Batch] = l.s.restores[l.device]
}

// checkAck: every change an Ack acknowledges is on the server, and its
// stamp within the server's clock bound, when the Ack reaches its agent.
//
// On the server: the server keeps, in the transaction that takes a change
// (applied, superseded, or refused: its sequence is spent either way), the
// change's digest under its dot (sync_digests, server/fork.go), and
// answers a change pushed again (duplicate) only when the digest it holds
// under that sequence is the change's. So each change an Ack answers
// applied, superseded or duplicate has its digest, the change's own, in
// the server's committed store once the Ack travels: an Ack sent before
// its commit, a commit a crash lost, a sequence taken over a gap and
// answered duplicate when it came, or another copy's write taken as this
// one's, all break it. Digests are collected only beyond DigestWindow of
// a replica's sequences, which no schedule reaches; a crash loses nothing
// committed. A refused change is not on the server: at rest it is in its
// laptop's rejected list (checkSent).
//
// The clock bound (docs/PROTOCOL.md §8.2, §8.6 4.): the server keeps a
// stamp at most τ (MaxSkew) ahead of its clock, and restamps any other
// (Admit); a stamp it gives is its clock's, which never follows a stamp
// beyond τ either. The stamp a change holds on the server (the Ack's when
// the server gave one, else the one pushed) is therefore at most τ ahead
// of the server's clock when it took it, and so when its Ack arrives.
func (s *Sim) checkAck(l *link, m syncproto.Message) {
	ack, ok := m.(*syncproto.Ack)
	if !ok {
		s.noteServed(m)
		s.checkNoGap(l, m)
		return
	}
	changes, ok := l.pushes[ack.Batch]
	if !ok {
		s.fail("%s: an Ack of batch %d, which the server never received on it", l, ack.Batch)
	}
	if len(ack.Results) != len(changes) {
		s.fail("%s: the Ack of batch %d answers %d changes of %d", l, ack.Batch, len(ack.Results), len(changes))
	}
	// Not a batch the server also received before the revocation: its Ack
	// may be that Push's, authorized then and committed since (seed
	// 8400086's shrunk schedule: the network duplicated a Push, one copy
	// arrived before the revocation and one after, and the Ack of the
	// first failed the check). The server's answer to the second copy is
	// then not told apart from it: an under-approximation, on batches the
	// network duplicated across a revocation alone.
	// Nor one whose device a restore began for after the server received
	// it: the server reads the device when it handles the Push, which may
	// be after the restore committed, and a revocation since does not
	// undo an Ack already on its way (seed 9400568 of the world with every
	// flag: a Push reached the server just after a revocation from the
	// command line, a restore began before the server read the device,
	// the device was revoked again, and the Ack, held on the link of a
	// laptop gone offline, arrived after that).
	if restores, revoked := l.revokedPush[ack.Batch]; revoked && !l.allowedPush[ack.Batch] && s.revokedNow[l.device] && s.restores[l.device] == restores {
		s.fail("%s: the server acknowledged batch %d, received after the revocation of the device it came from committed (and no restore began): a revoked device's session goes on pushing", l, ack.Batch)
	}
	s.noteRefused(l, ack, changes)
	n := s.srv
	limit := syncproto.MakeHLC(n.srv.Now().Add(n.srv.Config().MaxSkew).UnixMilli(), 0xFFFF) + 1
	var taken []int // indexes of the changes acknowledged as held
	for i := range ack.Results {
		r := &ack.Results[i]
		switch r.Status {
		case syncproto.ResultApplied, syncproto.ResultSuperseded, syncproto.ResultDuplicate:
		default:
			continue
		}
		c := &changes[i]
		taken = append(taken, i)
		if s.takenValues == nil {
			s.takenValues = map[syncproto.Dot]syncproto.Value{}
		}
		s.takenValues[c.Dot] = c.Value // checkDigests: the server holds this content under the dot
		h := c.HLC
		if r.HLC != 0 {
			h = r.HLC
		}
		if h > limit {
			s.fail("%s: the server took %s.%s of %s (%s) stamped %s, more than %s ahead of its clock (%s): the clock bound's τ (PROTOCOL §8.2 Admit)",
				l, c.Table, c.Field, short(c.Row), dotText(c.Dot), h, n.srv.Config().MaxSkew, n.srv.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
		}
	}
	if len(taken) == 0 {
		return
	}
	s.checkDigests(l, ack, changes, taken)
	s.checkLosers(l, ack, changes)
}

// noteServed notes the values a pull or a clone brought under their
// dots: what the server holds under each. A winner whose Ack the network
// lost (or whose author crashed before it arrived) is known by its value
// all the same, which a laptop compared with its own write that lost
// (checkLosersTold's sameValue; seed 8503146 of the truncated, wide,
// silent world with fixes: a copy's write the server answered superseded
// lost to a move back to the hamlet it named).
func (s *Sim) noteServed(m syncproto.Message) {
	var cs []syncproto.Change
	switch m := m.(type) {
	case *syncproto.Changes:
		cs = m.Changes
	case *syncproto.SnapshotChunk:
		cs = m.Rows
	default:
		return
	}
	if len(cs) > 0 && s.takenValues == nil {
		s.takenValues = map[syncproto.Dot]syncproto.Value{}
	}
	for i := range cs {
		s.takenValues[cs[i].Dot] = cs[i].Value
	}
}

// checkDigests: the server's store holds, under each acknowledged change's
// dot, that change's digest (checkAck). One query by origin replica and
// range of sequences: a push's changes are its replica's, in order.
func (s *Sim) checkDigests(l *link, ack *syncproto.Ack, changes []syncproto.Change, taken []int) {
	db, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	for len(taken) > 0 {
		origin := changes[taken[0]].Dot.Replica
		lo, hi := changes[taken[0]].Dot.Seq, changes[taken[0]].Dot.Seq
		var these []int
		taken = slices.DeleteFunc(taken, func(i int) bool {
			if changes[i].Dot.Replica != origin {
				return false
			}
			these = append(these, i)
			lo, hi = min(lo, changes[i].Dot.Seq), max(hi, changes[i].Dot.Seq)
			return true
		})
		rows, err := db.QueryContext(s.ctx, rebind(s.pg != nil, `SELECT d.seq, d.digest FROM sync_digests d JOIN replicas r ON r.idx = d.origin WHERE r.id = ? AND d.seq BETWEEN ? AND ?`), origin[:], int64(lo), int64(hi))
		if err != nil {
			s.fail("read the server's change digests: %v", err)
		}
		held := make(map[uint64]uint64, len(these))
		for rows.Next() {
			var seq, d int64
			if err := rows.Scan(&seq, &d); err != nil {
				s.fail("read the server's change digests: %v", err)
			}
			held[uint64(seq)] = uint64(d)
		}
		if err := rows.Close(); err != nil {
			s.fail("read the server's change digests: %v", err)
		}
		for _, i := range these {
			c := &changes[i]
			d, ok := held[c.Dot.Seq]
			switch {
			case !ok:
				s.fail("%s: the Ack of batch %d answers %s.%s of %s (%s) %s, and the server's store does not hold it",
					l, ack.Batch, c.Table, c.Field, short(c.Row), dotText(c.Dot), statusText(ack.Results[i].Status))
			case d != server.ChangeDigest(c):
				s.fail("%s: the Ack of batch %d answers %s.%s of %s (%s) %s, and the server's store holds another change under its dot",
					l, ack.Batch, c.Table, c.Field, short(c.Row), dotText(c.Dot), statusText(ack.Results[i].Status))
			}
		}
	}
}

func statusText(st syncproto.ResultStatus) string {
	switch st {
	case syncproto.ResultApplied:
		return "applied"
	case syncproto.ResultSuperseded:
		return "superseded"
	case syncproto.ResultDuplicate:
		return "duplicate"
	case syncproto.ResultRefused:
		return "refused"
	}
	return "unknown"
}

// checkClocks: no running laptop's clock follows a stamp beyond τ of its
// own corrected time (PROTOCOL §8.1: Observe ignores such a stamp,
// NowAfter does not follow it, setting the offset or restoring the clock
// at start forgets one). The corrected time never goes back but when the
// laptop's clock is set by hand (opClock): such a laptop is left out
// until it starts again or completes a sync begun after it (which
// measures the offset: the clock then forgets what is beyond it).
func (s *Sim) checkClocks() {
	for _, l := range s.laptops {
		if l.rep == nil || l.gone || l.clockSet {
			continue
		}
		c := l.rep.Clock()
		last, now := c.Last(), c.PhysicalNow()
		if limit := syncproto.MakeHLC(now.Millis()+c.MaxSkew().Milliseconds(), 0xFFFF) + 1; last > limit {
			s.fail("%s's clock is at %s, more than %s ahead of its corrected time %s (true time %s): it followed a stamp beyond the skew bound (PROTOCOL §8.1)",
				l.name, last, c.MaxSkew(), now, s.sch.now.UTC().Format(time.RFC3339))
		}
	}
}

// checkNoGap: the server never finds a gap in a laptop's sequences
// (CodeSequenceGap). A session pushes from the server's PushedSeq
// (Welcome) on, each batch after the last, so a gap is an agent that
// skipped a change: the server refuses the batch, the session ends, and
// the next one sends the change from PushedSeq, so the world still comes
// to rest whole (an agent that pushed each next batch from one past the
// last change sent passed 600 schedules).
//
// Frames the harness reordered on their way to the server are the one
// exception: a later batch that arrives first leaves a gap the server
// rightly refuses (seed 8400013, shrunk: batch 2 delivered before batch 1).
// TCP never reorders a WebSocket's frames.
func (s *Sim) checkNoGap(l *link, m syncproto.Message) {
	if e, ok := m.(*syncproto.ErrorMsg); ok && e.Code == syncproto.CodeSequenceGap && !l.reordered {
		s.fail("%s: the server found a gap in the laptop's sequences: %s", l, e.Msg)
	}
}

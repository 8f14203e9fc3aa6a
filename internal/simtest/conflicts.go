package simtest

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The conflict-log invariant (issue 17): a conflict is recorded only
// where two writes really competed. The harness sees every change a
// laptop pushes, and each names the version its writer overwrote (Base):
// a write whose chain of bases reaches another write came after it, with
// it in sight. A conflict whose loser is on its winner's chain records a
// write that did not compete (a spurious conflict: a clone that replays
// an edit its rows already passed, issue 9's review). Chains through
// writes the harness does not see (the server's own) end there: such a
// conflict counts as real, so the check never fails a true one.

// notePush records the bases of a Push delivered to the server.
func (s *Sim) notePush(f frame) {
	if m, err := decodeFrame(f); err == nil {
		s.notePushed("", m)
	}
}

// notePushed is notePush of a frame decoded already (nil: not a data frame,
// or not decodable), which laptop's link delivered: its bases, and for
// checkLosersTold, each field's last sequence by replica and each dot's
// authors (two copies of a folder may push one dot).
func (s *Sim) notePushed(laptop string, m syncproto.Message) {
	p, ok := m.(*syncproto.Push)
	if !ok {
		return
	}
	if s.bases == nil {
		s.bases = map[syncproto.Dot][]syncproto.Dot{}
		s.authors = map[syncproto.Dot][]string{}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		if !slices.Contains(s.authors[c.Dot], laptop) {
			s.authors[c.Dot] = append(s.authors[c.Dot], laptop)
		}
		// Two copies of a data folder may push different writes under one
		// dot: the server takes the one whose push it commits first and
		// answers the other replica_forked, which the harness does not
		// follow. Every base pushed under the dot is kept (seed 3010407:
		// keeping the last, the original laptop's, named a version the
		// copy's write, the one taken, had not seen).
		if s.lastOwn == nil {
			s.lastOwn = map[ownField]uint64{}
		}
		k := ownField{c.Dot.Replica, c.Row.String(), c.Field}
		s.lastOwn[k] = max(s.lastOwn[k], c.Dot.Seq)
		if !slices.Contains(s.bases[c.Dot], c.Base) {
			s.bases[c.Dot] = append(s.bases[c.Dot], c.Base)
		}
		if !c.Base.IsZero() {
			if s.based == nil {
				s.based = map[syncproto.Dot]bool{}
			}
			s.based[c.Base] = true
		}
	}
}

// overwrote reports whether write w came after write l with l in sight:
// l is on w's chain of bases, on every chain when two copies of a folder
// pushed w's dot with different bases (one of them is the version the
// server took, so a true conflict never fails the check; review 35).
func (s *Sim) overwrote(w, l syncproto.Dot) bool {
	return s.overwroteWithin(w, l, len(s.bases)+1, map[syncproto.Dot]bool{})
}

// overwroteWithin is overwrote within hops bases, with the answers found so
// far (seen): a dot reached by many paths is judged once.
func (s *Sim) overwroteWithin(w, l syncproto.Dot, hops int, seen map[syncproto.Dot]bool) bool {
	if v, ok := seen[w]; ok {
		return v
	}
	bases := s.bases[w]
	ok := hops > 0 && len(bases) > 0
	for _, b := range bases {
		if !ok {
			break
		}
		ok = b == l || (!b.IsZero() && s.overwroteWithin(b, l, hops-1, seen))
	}
	seen[w] = ok
	return ok
}

// checkConflicts: no conflict log, the server's or a laptop's, holds a
// loser its winner overwrote knowingly.
func (s *Sim) checkConflicts() {
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	s.checkConflictLog("the server", srvDB, `SELECT tbl, row, field, loser_origin, loser_seq, winner_origin, winner_seq FROM sync_conflicts ORDER BY id`)
	for _, l := range s.laptops {
		if running(l) {
			s.checkConflictLog(l.name, l.rep.DB(), `SELECT tbl, row_id, field, loser_replica, loser_seq, winner_replica, winner_seq FROM conflicts ORDER BY id`)
		}
	}
}

func (s *Sim) checkConflictLog(who string, db *sql.DB, q string) {
	rows, err := db.QueryContext(s.ctx, q)
	if err != nil {
		s.fail("read %s's conflict log: %v", who, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, field string
		var row, lr, wr []byte
		var ls, ws int64
		if err := rows.Scan(&table, &row, &field, &lr, &ls, &wr, &ws); err != nil {
			s.fail("read %s's conflict log: %v", who, err)
		}
		loser, winner := syncproto.Dot{Seq: uint64(ls)}, syncproto.Dot{Seq: uint64(ws)}
		copy(loser.Replica[:], lr)
		copy(winner.Replica[:], wr)
		if s.overwrote(winner, loser) {
			id := string(row)
			if len(row) == 16 {
				id = uuid.UUID(row).String()
			}
			s.fail("%s's conflict log holds a write that did not compete: %s %s.%s: %s lost to %s, which was written over it",
				who, table, id[:min(8, len(id))], field, dotText(loser), dotText(winner))
		}
	}
	if err := rows.Err(); err != nil {
		s.fail("read %s's conflict log: %v", who, err)
	}
}

func dotText(d syncproto.Dot) string { return fmt.Sprintf("%s@%d", short(d.Replica), d.Seq) }

// checkLosers: every change the server answered superseded that no
// pushed write overwrote knowingly (named as its base) lost to a
// concurrent write, and the server's conflict log, written in the
// transaction that judged it (before the Ack), holds it as that
// conflict's loser. Superseded is Resolve's Stale (the current version's
// base is the change: a write pushed before it named it, s.based) or
// LoseToConcurrent, which is a conflict (syncproto.ApplyOutcome); a
// server that answers one without its conflict entry hides from the
// leaders a value a person typed. Checked as the Ack reaches its agent,
// by a look-up of the few changes so answered.
func (s *Sim) checkLosers(l *link, ack *syncproto.Ack, changes []syncproto.Change) {
	var lost []int
	for i := range ack.Results {
		if ack.Results[i].Status == syncproto.ResultApplied {
			markDot(&s.answeredTaken, l.name, changes[i].Dot)
		}
		if ack.Results[i].Status == syncproto.ResultSuperseded && !s.based[changes[i].Dot] {
			lost = append(lost, i)
			markDot(&s.answeredLost, l.name, changes[i].Dot)
		}
	}
	if len(lost) == 0 {
		return
	}
	db, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	for _, i := range lost {
		c := &changes[i]
		var n int
		if err := db.QueryRowContext(s.ctx, rebind(s.pg != nil, `SELECT count(*) FROM sync_conflicts WHERE tbl = ? AND row = ? AND field = ? AND loser_origin = ? AND loser_seq = ?`),
			c.Table, c.Row[:], c.Field, c.Dot.Replica[:], int64(c.Dot.Seq)).Scan(&n); err != nil {
			s.fail("read the server's conflict log: %v", err)
		}
		if n == 0 {
			s.fail("%s: the Ack of batch %d answers %s.%s of %s (%s) superseded, no write overwrote it knowingly, and the server's conflict log does not hold it as a loser",
				l, ack.Batch, c.Table, c.Field, short(c.Row), dotText(c.Dot))
		}
	}
}

package simtest

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// ownField is a field of a row as one replica wrote it.
type ownField struct {
	replica syncproto.ReplicaID
	row     string
	field   string
}

// checkLosersTold: a volunteer whose write lost learns it. For every
// conflict the server logged whose loser is a running laptop's own write
// (its replica id now) that an Ack it received answered superseded, on a
// row that laptop holds at rest, the laptop's own conflict log lists that
// loser too: its pull met the winner (merge), its clone took the row from
// the server's versions with the write listed as superseded
// (agent/superseded.go), or the row, dropped with the write kept aside,
// came back with the winner (agent/away.go). checkConflicts checks the
// logs hold no write that did not compete; this checks they miss none a
// laptop was told of.
//
// And those answered applied that a concurrent write pushed later beat,
// where the laptop holds at rest the winner or a version written straight
// over it: its pull met the winner while it held the write (merge), or a
// clone (SnapshotChunk.Lost) or a row's return by a back-fill or a move's
// re-log (Changes.Lost) named the loss, the laptop comparing its own
// write, held or noted when it dropped the row (agent/away.go), with
// it. A winner written over more than once before the laptop met the
// row again is named only when it is the winner of the last conflict
// logged on the field (syncproto.LostWrite.NamedAfter; seed 8500139 of
// every world): after another conflict the client could not tell the
// loser from a version written over it on another branch, so such a
// loss is not looked for. Stop 64 names the loss on a row's return (seed
// 8500251); stop 67 on a field a back-fill's chunk leaves out for the pull
// from its head, and tells a loss to a write over no version, or over the
// one the laptop's was written over, on a row a clone kept or a rescope
// carried (seeds 7407104 and 7408335), whose losses were not looked for
// until then.
//
// Not a loss that lost no value: a winner the server holds with the
// loser's very value. Two copies of a data folder (or a folder and its
// restored backup) each fork and push the same unsent edits again under
// their own new replica ids; the server takes the first and logs the
// second as a concurrent loser, value for value, and a clone lists no
// value lost to itself (agent/superseded.go, stop 50; seeds 8400022,
// 8400045, 8400059, 8400073, 8400075, 8400078). The value is the one the
// server took under the winner's dot: another copy may have pushed a
// different one under it, refused as a fork (seed 9589472). Nor one whose
// field the laptop holds at rest with the loser's value: a clone lists no
// loss whose snapshot version has the value that lost (stop 50), though
// the write it lost to had another, or no Ack showed the harness its
// value (seed 8400738 of every world: the snapshot's version of a
// report's hamlet, two writes after the one a folder copy's lost to,
// has the copy's value).
func (s *Sim) checkLosersTold() {
	if len(s.answeredLost) == 0 && len(s.answeredTaken) == 0 {
		return // no laptop was answered: nothing to look for
	}
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	type conflict struct {
		laptopLoss
		winner syncproto.Dot
		taken  bool // answered applied, not superseded
	}
	var logged []conflict
	rows, err := srvDB.QueryContext(s.ctx, `SELECT tbl, row, field, loser_origin, loser_seq, winner_origin, winner_seq FROM sync_conflicts ORDER BY id`)
	if err != nil {
		s.fail("read the server's conflict log: %v", err)
	}
	for rows.Next() {
		var row, lr, wr []byte
		var table, field string
		var ls, ws int64
		if err := rows.Scan(&table, &row, &field, &lr, &ls, &wr, &ws); err != nil {
			s.fail("read the server's conflict log: %v", err)
		}
		id := string(row)
		if len(row) == 16 {
			id = uuid.UUID(row).String()
		}
		d, w := syncproto.Dot{Seq: uint64(ls)}, syncproto.Dot{Seq: uint64(ws)}
		copy(d.Replica[:], lr)
		copy(w.Replica[:], wr)
		logged = append(logged, conflict{laptopLoss: laptopLoss{table: table, row: id, field: field, loser: d}, winner: w})
	}
	if err := rows.Err(); err != nil {
		s.fail("read the server's conflict log: %v", err)
	}
	rows.Close()
	lastWinner := map[ownField]syncproto.Dot{} // the winner of the last conflict logged on each field
	for _, c := range logged {
		lastWinner[ownField{row: c.row, field: c.field}] = c.winner
	}
	for _, l := range s.laptops {
		if !running(l) || len(s.answeredLost[l.name]) == 0 && len(s.answeredTaken[l.name]) == 0 {
			continue
		}
		id := l.rep.ID()
		var owed []conflict
		for _, c := range logged {
			lost := s.answeredLost[l.name][c.loser]
			taken := s.answeredTaken[l.name][c.loser]
			if c.loser.Replica == id && (lost || taken) && slices.Equal(s.authors[c.loser], []string{l.name}) &&
				s.lastOwn[ownField{id, c.row, c.field}] <= c.loser.Seq && !s.sameValue(c.loser, c.winner) {
				c.taken = taken && !lost
				owed = append(owed, c)
			}
		}
		if len(owed) == 0 {
			continue
		}
		told := map[laptopLoss]bool{}
		for _, c := range s.laptopLosses(l) {
			told[c] = true
		}
		owed = slices.DeleteFunc(owed, func(c conflict) bool { return told[c.laptopLoss] })
		if len(owed) == 0 {
			continue
		}
		snap, err := l.rep.Snapshot(s.ctx)
		if err != nil {
			s.fail("read %s's versions: %v", l.name, err)
		}
		holds := map[ownField]syncproto.Version{} // the laptop's version of each field it holds, by row
		for k, v := range snap {
			holds[ownField{row: k.Row.String(), field: k.Field}] = v
		}
		var missing []string
		for _, c := range owed {
			v, held := holds[ownField{row: c.row, field: c.field}]
			if !held || v.Value.Equal(s.takenValues[c.loser]) {
				continue // not held, or it holds the value that lost: none lost to the volunteer's eyes
			}
			if c.taken && v.Dot != c.winner && v.Base != c.winner && lastWinner[ownField{row: c.row, field: c.field}] != c.winner {
				continue // the winner written over more than once, and conflicted since: no one names it
			}
			missing = append(missing, fmt.Sprintf("%s.%s lost as %s", c.row[:8], c.field, dotText(c.loser)))
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			s.fail("%s's conflict log lacks %d of its writes the server logged as lost, on rows it holds: %s", l.name, len(missing), missing[0])
		}
	}
}

// sameValue reports whether the server holds the loser's value under
// the winner's dot: no value was lost. A winner whose Ack no laptop
// received and that no pull or clone brought is taken for a loss.
func (s *Sim) sameValue(loser, winner syncproto.Dot) bool {
	lv, lok := s.takenValues[loser]
	wv, wok := s.takenValues[winner]
	return lok && wok && lv.Equal(wv)
}

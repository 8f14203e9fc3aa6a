package agent

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// supersededMigration: superseded lists this replica's writes the server
// answered superseded (§5.4: stored, but another write wins; the server
// logged the conflict) until this replica has met the write that won.
//
// A pull brings that write, and its merge records the conflict here as
// well (or it was pulled before, and recorded then). A snapshot clone does
// not: it replaces the row by the server's versions, with no conflict
// (§16.4 step 3), and the winner, logged before the clone's head, never
// comes in a pull. That is the session of a data folder's copy found
// behind (fork.go) and of changes a restored server lost, sent again
// (resendLost): they push under a new replica id, then clone again. Left
// to the clone, the volunteer whose edit lost never learnt it: the copy
// that won listed the conflict, the server logged it, her laptop showed
// nothing (helper 222, TestCopiedFolderLaterEditWinsCopySyncsFirst).
// So the clone records it from this list (cloneTxn.superseded).
const supersededMigration = `
CREATE TABLE IF NOT EXISTS superseded (
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	replica BLOB NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (row_id, field, replica, seq)
) WITHOUT ROWID;
`

// noteSuperseded lists c, answered superseded (applyAck).
func (t *txn) noteSuperseded(c *syncproto.Change) error {
	if err := t.exec(`INSERT OR IGNORE INTO superseded (row_id, field, replica, seq) VALUES (?, ?, ?, ?)`,
		c.Row.String(), c.Field, c.Dot.Replica[:], int64(c.Dot.Seq)); err != nil {
		return fmt.Errorf("note a change another write beat: %w", err)
	}
	return nil
}

// supersededNote reads a salvaged row of the table (repair): the change
// it notes, its row, field and dot alone.
func supersededNote(t tableRows, row []any) (syncproto.Change, bool) {
	idText, _ := t.col(row, "row_id").(string)
	field, _ := t.col(row, "field").(string)
	replica, _ := t.col(row, "replica").([]byte)
	seq, _ := t.col(row, "seq").(int64)
	id, err := uuid.Parse(idText)
	if err != nil || field == "" || len(replica) != len(syncproto.ReplicaID{}) || seq <= 0 {
		return syncproto.Change{}, false
	}
	c := syncproto.Change{Row: id, Field: field, Dot: syncproto.Dot{Seq: uint64(seq)}}
	copy(c.Dot.Replica[:], replica)
	return c, true
}

// forgetSuperseded empties the list: a complete pull met every write that
// beat one of those pushed before it (afterPull), but for the rows out of
// the scope that keep writes of this replica (own_away): the pull met no
// write of theirs, and the note tells the row's return that a kept write
// lost (takeAway). It bounds the notes of taken writes too, once a pull.
func (t *txn) forgetSuperseded() error {
	if err := t.exec(`DELETE FROM superseded WHERE row_id NOT IN (SELECT row_id FROM own_away WHERE NOT taken)`); err != nil {
		return fmt.Errorf("forget the changes another write beat: %w", err)
	}
	// A held row's notes are left from its return (takeAway): the
	// pull met every change of it up to the log's end.
	if err := t.exec(`DELETE FROM own_away WHERE taken AND row_id IN (SELECT id FROM row_state)`); err != nil {
		return fmt.Errorf("forget the notes of rows back: %w", err)
	}
	if err := t.boundTakenNotes(); err != nil {
		return fmt.Errorf("forget the oldest notes of dropped rows: %w", err)
	}
	if err := t.forgetSeen(); err != nil {
		return fmt.Errorf("forget what the deletes of rows back saw: %w", err)
	}
	return nil
}

// supersededOf reads the list's notes of one row: per field, the dots.
func (t *txn) supersededOf(id syncproto.RowID) (map[string][]syncproto.Dot, error) {
	notes, err := t.supersededNotes(` WHERE row_id = ?`, id.String())
	return notes[id], err
}

// supersededByRow reads the list: per row, per field, the dots.
func (t *txn) supersededByRow() (map[syncproto.RowID]map[string][]syncproto.Dot, error) {
	return t.supersededNotes("")
}

// supersededNotes reads the list's notes that where (a WHERE clause, or
// nothing) selects: per row, per field, the dots.
func (t *txn) supersededNotes(where string, args ...any) (map[syncproto.RowID]map[string][]syncproto.Dot, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT row_id, field, replica, seq FROM superseded`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read the changes another write beat: %w", err)
	}
	defer rows.Close()
	var out map[syncproto.RowID]map[string][]syncproto.Dot
	for rows.Next() {
		var idText, field string
		var replica []byte
		var seq int64
		if err := rows.Scan(&idText, &field, &replica, &seq); err != nil {
			return nil, fmt.Errorf("read the changes another write beat: %w", err)
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, fmt.Errorf("read the changes another write beat: %w", err)
		}
		if out == nil {
			out = map[syncproto.RowID]map[string][]syncproto.Dot{}
		}
		if out[id] == nil {
			out[id] = map[string][]syncproto.Dot{}
		}
		out[id][field] = append(out[id][field], dotFrom(replica, seq))
	}
	return out, rows.Err()
}

// superseded records, before the chunk's versions of a row (cs) replace
// or merge with what this replica holds of it (st, nil when it does not),
// the losses the snapshot alone cannot show: loser the version it holds,
// winner the snapshot's, the server's state after the write that won
// (that write, or one made over it since).
//
// Two kinds. Its writes the server answered superseded (the list above).
// And any version it holds that the server logged as a conflict's loser
// (SnapshotChunk.Lost): a write the server took as the field's value and
// a concurrent write pushed later beat (the volunteer's, or a teammate's
// it pulled), which a pull would have met as the winner's merge, but a
// clone started again (past the horizon, or a first clone cut and
// restarted) replaces unseen. Only when the snapshot's version is that
// winner or written straight over it: the winner's own base was not the
// loser (it competed), but a version further on may have been written over
// the loser through another branch, and is then no loss (checkConflicts'
// chain), which the replica cannot see.
//
// Only where it still holds the write that lost: a write of its own over
// it, or a pull that met the winner (and recorded the conflict), replaced
// it. Or where it held it when it dropped the row (gone, per field: its
// own writes the server took, takeAway), for the second kind, and the row
// holds no later version of the field. Not when the snapshot's version is
// that write, was written over it, or has its value: no value lost to
// itself (stop 50).
func (g *cloneTxn) superseded(cs []syncproto.Change, st *rowState, gone map[string]*syncproto.Version) error {
	notes, told := g.lost[cs[0].Row], g.told[cs[0].Row]
	if len(notes) == 0 && len(told) == 0 {
		return nil
	}
	for i := range cs {
		c := &cs[i]
		dots := notes[c.Field]
		if len(dots) == 0 && len(told[c.Field]) == 0 {
			continue
		}
		var held *syncproto.Version
		if st != nil {
			held = st.cur[c.Field]
		}
		noted := gone[c.Field]
		if held == nil {
			held, noted = noted, nil
		} else if noted != nil && (noted.Dot == held.Dot || noted.HLC <= held.HLC) {
			noted = nil // the row holds it, or a version written or met after it
		}
		// A noted write later than what the row holds counts too: a
		// return cut after a move's re-log brought the field as it was
		// before her write (pullTxn.toldGone lets the note wait past it),
		// and a clone since names her write's loss (stop 68).
		for _, v := range []*syncproto.Version{held, noted} {
			if v == nil || !lostTo(v, c) || !slices.Contains(dots, v.Dot) && !beaten(told[c.Field], v.Dot, c) {
				continue
			}
			isNew, err := g.t.recordLoss(v, c, g.now)
			if err != nil {
				return err
			}
			if isNew {
				g.conflicts++
			}
		}
		for _, d := range dots {
			if err := g.t.exec(`DELETE FROM superseded WHERE row_id = ? AND field = ? AND replica = ? AND seq = ?`,
				c.Row.String(), c.Field, d.Replica[:], int64(d.Seq)); err != nil {
				return fmt.Errorf("forget a change another write beat: %w", err)
			}
		}
		delete(notes, c.Field)
	}
	return nil
}

// lostTo reports whether held, a write the server logged as beaten, is
// a loss to tell when c replaces it: not when c is that write, was written
// over it, or has its value (no value lost to itself, stop 50).
func lostTo(held *syncproto.Version, c *syncproto.Change) bool {
	return c.Dot != held.Dot && c.Base != held.Dot && !c.Value.Equal(held.Value)
}

// beaten reports whether the server logged held as a loser on c's field
// (ls, the conflicts a message names): to c's version, to the version c
// was written over, or to a version c descends from by writes made
// straight over it, which only the server can tell (LostWrite.NamedAfter).
func beaten(ls []syncproto.LostWrite, held syncproto.Dot, c *syncproto.Change) bool {
	for _, l := range ls {
		if l.Loser == held && l.Row == c.Row && l.Field == c.Field {
			return true
		}
	}
	return false
}

// recordLoss records held, a version this replica held or noted, as lost
// to c's version, a conflict the server logged (superseded, beaten).
func (t *txn) recordLoss(held *syncproto.Version, c *syncproto.Change, now int64) (bool, error) {
	isNew, err := t.recordConflict(syncproto.Conflict{Key: c.Key(), Scope: c.Scope, Loser: *held, Winner: syncproto.VersionOf(c)}, now)
	if err != nil {
		return false, fmt.Errorf("record a conflict the server logged: %w", err)
	}
	return isNew, nil
}

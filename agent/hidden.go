package agent

import (
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Conflicts as synced facts (issue 14 defect 8).
//
// A conflict is restored by writing its losing value again
// (RestoreConflict): every replica that merges, or makes, a write that
// restores a conflict it lists (syncproto.Conflict.RestoredBy) marks it
// restored, so a conflict restored on one laptop leaves the others' lists.
//
// A delete that wins over an edit it never saw leaves, field by field, no
// conflict: the edit installs on a row nobody sees. The replica that made
// the delete knows, when such an edit reaches it after its own tombstone,
// that its delete did not know the edit (the editor's agent does not edit a
// row it holds deleted: Update refuses). It then writes
// syncproto.HiddenEdit, "the row is not deleted", stamped to lose to its
// tombstone: every replica, the server too, records it as a conflict on
// _deleted lost to the delete, and restoring it undeletes the row with the
// edit.

// openConflicts is the fields of this replica that have a conflict not yet
// restored, so a pull looks for restores only where one can be.
func (t *txn) openConflicts() (map[syncproto.FieldKey]bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT tbl, row_id, field FROM conflicts WHERE restored_at IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[syncproto.FieldKey]bool{}
	for rows.Next() {
		var k syncproto.FieldKey
		var id string
		if err := rows.Scan(&k.Table, &id, &k.Field); err != nil {
			return nil, err
		}
		if k.Row, err = uuid.Parse(id); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// restoreConflicts marks restored the open conflicts of c's field that c
// restores. It reports whether the field still has open ones.
func (t *txn) restoreConflicts(c *syncproto.Change, now int64) (open bool, err error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, loser_kind, loser_value, loser_replica, loser_seq, winner_hlc
		FROM conflicts WHERE row_id = ? AND field = ? AND restored_at IS NULL`, c.Row.String(), c.Field)
	if err != nil {
		return false, err
	}
	var done []int64
	for rows.Next() {
		var id, lk, ls, wh int64
		var lv any
		var lr []byte
		if err := rows.Scan(&id, &lk, &lv, &lr, &ls, &wh); err != nil {
			rows.Close()
			return false, err
		}
		k := syncproto.Conflict{Key: c.Key(), Loser: syncproto.Version{Value: valueFrom(lk, lv), Dot: dotFrom(lr, ls)},
			Winner: syncproto.Version{HLC: syncproto.HLC(wh)}}
		if k.RestoredBy(c) {
			done = append(done, id)
		} else {
			open = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, id := range done {
		if err := t.exec(`UPDATE conflicts SET restored_at = ? WHERE id = ?`, now, id); err != nil {
			return false, err
		}
	}
	return open, nil
}

// hidesEdit reports whether c, just merged into st, is an edit this
// replica's own tombstone on the row never saw: it arrives after it.
func (r *Replica) hidesEdit(st *rowState, c *syncproto.Change) bool {
	tomb := st.cur[syncproto.TombstoneField]
	switch {
	case tomb == nil || !tomb.Value.AsBool() || tomb.Dot.Replica != r.id || c.Dot.Replica == r.id:
		return false
	case c.Field == syncproto.TombstoneField:
		return false
	case c.Field == schema.ScopeField && c.Table != "households":
		return false // the server's bookkeeping when a household moves, not an edit
	}
	return true
}

// awaySeenMigration: of a row this replica deleted and then dropped (its
// team lost the hamlet, another team moved the household away, or it
// collected the tombstone before the server did), the versions it held
// then, which its delete had seen or already hid (noteSeen). A move's
// re-log brings the row back field by field after its tombstone, and each
// version it held when the row left then looked like an edit the delete
// never saw: a hidden edit of its own, pushed and listed everywhere, where
// nothing competed (stop 68). noted_at (the drop's time) orders them for
// the bound (maxTakenNotes rows).
const awaySeenMigration = `
CREATE TABLE IF NOT EXISTS own_away_seen (
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	replica BLOB NOT NULL,
	seq INTEGER NOT NULL,
	noted_at INTEGER NOT NULL,
	PRIMARY KEY (row_id, field)
) WITHOUT ROWID;
`

// noteSeen notes, of a row st whose current tombstone is this replica's
// delete, the other versions it holds as the row leaves (keepRowAway,
// CollectTombstones): those its delete saw (sawAway). They go when the row
// is back, or past the bound (forgetSeen).
func (t *txn) noteSeen(st *rowState) error {
	tomb := st.cur[syncproto.TombstoneField]
	if tomb == nil || !tomb.Value.AsBool() || tomb.Dot.Replica != t.r.id {
		return nil
	}
	at := t.r.now().UnixMilli()
	for _, field := range slices.Sorted(maps.Keys(st.cur)) { // in order: a seed replays the same statements
		v := st.cur[field]
		if field == syncproto.TombstoneField || v.Dot.Replica == t.r.id {
			continue
		}
		if err := t.exec(`INSERT OR REPLACE INTO own_away_seen (row_id, field, replica, seq, noted_at) VALUES (?, ?, ?, ?, ?)`,
			st.id.String(), field, v.Dot.Replica[:], int64(v.Dot.Seq), at); err != nil {
			return fmt.Errorf("note what a delete saw of a row that leaves: %w", err)
		}
	}
	return nil
}

// sawAway reports whether c is the version of its field this replica held
// when the row, deleted here, left (noteSeen): its delete saw it.
func (t *txn) sawAway(c *syncproto.Change) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM own_away_seen WHERE row_id = ? AND field = ? AND replica = ? AND seq = ?`,
		c.Row.String(), c.Field, c.Dot.Replica[:], int64(c.Dot.Seq)).Scan(&n)
	return n > 0, err
}

// forgetSeen forgets what the deletes of rows back saw (a complete pull
// met every version of theirs), and, past maxTakenNotes rows, those of the
// oldest drops, whole rows at a time: a row collected here may come back
// by a move's re-log until the server collects it too, which a device
// silent up to the horizon can hold back for months, so the notes of
// collected rows leave by this bound alone.
func (t *txn) forgetSeen() error {
	if err := t.exec(`DELETE FROM own_away_seen WHERE row_id IN (SELECT id FROM row_state)`); err != nil {
		return err
	}
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(DISTINCT row_id) FROM own_away_seen`).Scan(&n); err != nil || n <= maxTakenNotes {
		return err
	}
	return t.exec(`DELETE FROM own_away_seen WHERE row_id IN
		(SELECT row_id FROM own_away_seen GROUP BY row_id ORDER BY max(noted_at) DESC, row_id LIMIT -1 OFFSET ?)`, maxTakenNotes)
}

// hideEdit records that this replica's delete of st won over the edit c it
// never saw (syncproto.HiddenEdit), once per tombstone: a new write of this
// replica, queued for the server, and a conflict here.
func (t *txn) hideEdit(st *rowState, c *syncproto.Change, now int64) (bool, error) {
	tomb := *st.cur[syncproto.TombstoneField]
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM conflicts WHERE row_id = ? AND field = ? AND winner_replica = ? AND winner_seq = ?`,
		st.id.String(), syncproto.TombstoneField, tomb.Dot.Replica[:], int64(tomb.Dot.Seq)).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	seq, err := t.metaInt("seq")
	if err != nil {
		return false, err
	}
	seq++
	h := syncproto.HiddenEdit(tomb, c, st.scope, syncproto.Dot{Replica: t.r.id, Seq: uint64(seq)})
	kind, val := valueArgs(h.Value)
	// Its stamp is the edit's, not this clock's: no sync restamps it
	// (stamp_final, clock.go), or it could rise above the tombstone.
	if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope, created_at, stamp_final)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		seq, h.Table, h.Row.String(), h.Field, kind, val, int64(h.HLC), replicaBytes(h.Base), int64(h.Base.Seq), h.Scope, now); err != nil {
		return false, err
	}
	if err := t.setMeta("seq", seq); err != nil {
		return false, err
	}
	if _, err := t.recordConflict(syncproto.ConflictFor(syncproto.LoseToConcurrent, &tomb, &h), now); err != nil {
		return false, err
	}
	st.hist = append(st.hist, histEntry{Field: h.Field, Ver: syncproto.VersionOf(&h), Lost: true})
	return true, nil
}

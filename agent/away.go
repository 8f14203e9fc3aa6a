package agent

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Own writes of a row that left the scope before they were pushed
// (docs/PROTOCOL.md §7.5). A pull may drop a row while this replica's
// edit of it still waits in the outbox (a watch session pulls on the
// server's notice without pushing first; the app writes while a sync
// runs). The edit is still pushed, and when another device moves the row
// back the server logs it after the move's re-log of the row's versions,
// as this replica's own write, which its pulls leave out: the row would
// come back without it, for good. So a drop keeps the row's own versions
// still waiting to be pushed (own_away), with the history of their fields
// (own_away_hist), and the pull that brings the row back starts from them,
// as if the row had never left. Without the history, the move's re-log of
// the version a kept correction was written over (its base's base) would
// meet the correction alone and be taken for a concurrent write: a
// conflict the server never has (review 29 D2).

const ownAwayMigration = `
CREATE TABLE own_away (
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	tbl TEXT NOT NULL,
	kind INTEGER NOT NULL,
	value,
	hlc INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	base_replica BLOB,
	base_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (row_id, field)
) WITHOUT ROWID;
CREATE INDEX own_away_seq ON own_away(seq);
`

// awayReplicaMigration names the replica of each kept write. own_away
// named a kept write by its sequence alone, every reader taking it as the
// current replica id's; but a write the server answered superseded is
// kept with no outbox entry, so a fork (fork.go), which renumbers the
// outbox under a new id, left it under the old id's number, read after
// as the new id's: the fork's clone (holdSynced) found no superseded note
// of that dot and forgot it, and a volunteer whose correction lost to a
// teammate's was never told when the household came back. Rows kept
// before this migration get the id the file holds now, as every reader
// took them: a pending one is the current id's (a fork renumbered it with
// the outbox), and one answered superseded before a fork, read as the new
// id's since, was forgotten by the fork's clone already unless that
// clone has not run yet.
const awayReplicaMigration = `
CREATE TABLE own_away_v15 (
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	tbl TEXT NOT NULL,
	kind INTEGER NOT NULL,
	value,
	hlc INTEGER NOT NULL,
	replica BLOB NOT NULL,
	seq INTEGER NOT NULL,
	base_replica BLOB,
	base_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (row_id, field)
) WITHOUT ROWID;
INSERT INTO own_away_v15 (row_id, field, tbl, kind, value, hlc, replica, seq, base_replica, base_seq)
	SELECT row_id, field, tbl, kind, value, hlc,
		(SELECT unhex(replace(value, '-', '')) FROM agent_meta WHERE key = 'replica_id'),
		seq, base_replica, base_seq FROM own_away;
DROP TABLE own_away;
ALTER TABLE own_away_v15 RENAME TO own_away;
CREATE INDEX own_away_seq ON own_away(replica, seq);
`

// awayTakenMigration notes, of a row dropped, the own writes the server
// had taken as the field's value (taken): a concurrent write pushed later
// may have beaten one before this replica pulled it, and a row that comes
// back by a snapshot names the loss (SnapshotChunk.Lost) where the
// replica no longer holds the write to tell the volunteer of. noted_at
// (the drop's time) orders them for the bound (maxTakenNotes).
const awayTakenMigration = `
ALTER TABLE own_away ADD COLUMN taken INTEGER NOT NULL DEFAULT 0;
ALTER TABLE own_away ADD COLUMN noted_at INTEGER NOT NULL DEFAULT 0;
`

// awayToldMigration marks the notes (taken) whose loss a snapshot named
// (SnapshotChunk.Lost) on a field it left out for the pull from its head:
// the pull brings that field's later versions, and the first of them to
// meet the note tells the volunteer her write lost (pullTxn.toldGone),
// which those versions alone cannot tell (stop 66's note: a hamlet
// gained, back-filled at the laptop's cursor, the winner written over
// since).
const awayToldMigration = `
ALTER TABLE own_away ADD COLUMN told INTEGER NOT NULL DEFAULT 0;
`

// ownAwayHistMigration: the versions the writes own_away keeps were
// written over (the row's history of those fields, less what lost to
// them), in the row's order (pos).
const ownAwayHistMigration = `
CREATE TABLE own_away_hist (
	row_id TEXT NOT NULL,
	pos INTEGER NOT NULL,
	field TEXT NOT NULL,
	kind INTEGER NOT NULL,
	value,
	hlc INTEGER NOT NULL,
	replica BLOB NOT NULL,
	seq INTEGER NOT NULL,
	base_replica BLOB,
	base_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (row_id, pos)
) WITHOUT ROWID;
CREATE INDEX own_away_hist_seq ON own_away_hist(seq);
`

// keepAway keeps, for the rows ids about to be dropped, their own current
// versions that the outbox (or the compact log) still holds unpushed, and
// the history those versions were written over. It keeps no current
// version the server took as the field's value: a row that comes back by
// a move comes with the move's re-log of its current versions, and a
// write of its own the server took after a move this replica had not
// pulled reaches it marked as a move's (server/apply.go ownBack). Kept, a
// version others wrote over since would come back without its history,
// and the move's re-log would record a conflict no one else has (review
// 28 D2). A version the server took as a loser (answered superseded),
// whose winner this replica has not met, is kept: no one writes over it,
// and the row's return meets the winner, or a write over the winner, with
// it and tells the volunteer her write lost (takeAway).
//
// A version the server took as the field's value is noted (taken): never
// a state to start from, only what a snapshot that brings the row back
// may name as a loss (takeAway's gone, cloneTxn.superseded).
func (t *txn) keepAway(ids []syncproto.RowID) error {
	for _, id := range ids {
		if err := t.keepRowAway(id, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// keepRowAway is keepAway for one row, whose state st is as the
// transaction holds it (nil: as stored). A pull that brought the row back
// and drops it again in one transaction holds the versions it restored
// only in memory (review 30 D2). A row this replica no longer holds keeps
// what its drop kept: the server evicts a row the session's rescope
// dropped already (a hamlet the team lost), and forgotten there, a write
// the server answered superseded in between never told the volunteer it
// lost when the row came back (issue 17: seed 8400019 of the wide and
// silent worlds). note says whether to note the versions the server took
// too: not where the row is taken back at once (a re-clone's held row).
func (t *txn) keepRowAway(id syncproto.RowID, st *rowState, note bool) error {
	if st == nil {
		var err error
		if st, err = t.get(id); err != nil {
			return err
		}
		if st == nil {
			return nil
		}
	}
	// Notes left from the row's last return that no later version of
	// their field has met yet (pullTxn.toldGone): still what a return
	// may name as a loss.
	var before map[string]*syncproto.Version
	if note {
		var err error
		if before, err = t.goneOf(id); err != nil {
			return err
		}
	}
	if err := t.forgetAway(id); err != nil {
		return err
	}
	if note {
		if err := t.noteSeen(st); err != nil {
			return err
		}
	}
	keeps, some, err := t.keptOf(id)
	if err != nil || !some && !note {
		return err
	}
	var taken func(syncproto.Dot) bool
	if note {
		if taken, err = t.takenOf(id); err != nil {
			return err
		}
	}
	kept := map[string]bool{}
	at := t.r.now().UnixMilli()
	for field, v := range st.cur {
		keep := keeps(field, v.Dot)
		if !keep && (!note || !taken(v.Dot)) {
			continue
		}
		if b := before[field]; !keep && b != nil && b.HLC > v.HLC {
			continue // the later own write stays noted (below)
		}
		delete(before, field)
		kept[field] = keep
		if err := t.putAway(st.table, id, field, v, !keep, at); err != nil {
			return err
		}
	}
	for field, v := range before {
		if _, ok := kept[field]; ok {
			continue // a write kept to push: its return decides again
		}
		if err := t.putAway(st.table, id, field, v, true, at); err != nil {
			return err
		}
	}
	for pos, h := range st.hist {
		// Not what lost to the kept write: a restamp while the row is
		// away may make it the winner, and the row, when it comes
		// back, must decide again by the stamps (review 30 D1).
		if !kept[h.Field] || h.Lost {
			continue
		}
		kind, val := valueArgs(h.Ver.Value)
		var base any
		if !h.Ver.Base.IsZero() {
			base = h.Ver.Base.Replica[:]
		}
		if err := t.exec(`INSERT INTO own_away_hist (row_id, pos, field, kind, value, hlc, replica, seq, base_replica, base_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id.String(), pos, h.Field, kind, val, int64(h.Ver.HLC), h.Ver.Dot.Replica[:], int64(h.Ver.Dot.Seq), base, int64(h.Ver.Base.Seq)); err != nil {
			return err
		}
	}
	return nil
}

// putAway writes one own version of row id's field to own_away: a write
// kept to start from, or, taken, a note of one the server took (at: the
// drop's time).
func (t *txn) putAway(table string, id syncproto.RowID, field string, v *syncproto.Version, taken bool, at int64) error {
	kind, val := valueArgs(v.Value)
	var base any
	if !v.Base.IsZero() {
		base = v.Base.Replica[:]
	}
	return t.exec(`INSERT INTO own_away (row_id, field, tbl, kind, value, hlc, replica, seq, base_replica, base_seq, taken, noted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id.String(), field, table, kind, val, int64(v.HLC), v.Dot.Replica[:], int64(v.Dot.Seq), base, int64(v.Base.Seq), taken, at)
}

// keptOf reads which own writes of row id a drop keeps aside and its
// return takes back: those awaiting a result (the outbox numbers the
// current id's changes) and those answered superseded, under whatever id
// they were pushed (a former one after a fork, fork.go). A refused write
// stays current until the volunteer discards it, but it is neither: the
// server does not hold it, and a row that comes back comes back without
// it. some is false when no write of the row is either.
func (t *txn) keptOf(id syncproto.RowID) (keeps func(field string, d syncproto.Dot) bool, some bool, err error) {
	pending, err := t.pendingSeqs(id)
	if err != nil {
		return nil, false, err
	}
	lost, err := t.supersededOf(id)
	if err != nil {
		return nil, false, err
	}
	return func(field string, d syncproto.Dot) bool {
		return d.Replica == t.r.id && pending.holds(d.Seq) || slices.Contains(lost[field], d)
	}, len(pending) > 0 || len(lost) > 0, nil
}

// takenOf reads which writes of row id, not kept (keptOf), a drop notes:
// this replica's own, under its id or a former one, but for those the
// server refused (it holds no such version).
func (t *txn) takenOf(id syncproto.RowID) (func(syncproto.Dot) bool, error) {
	refused, err := t.seqsIn(id, outboxRejected, outboxRejected)
	if err != nil {
		return nil, err
	}
	return func(d syncproto.Dot) bool {
		return t.r.mine(d.Replica) && !(d.Replica == t.r.id && refused.holds(d.Seq))
	}, nil
}

// maxTakenNotes bounds the notes of taken writes (keepRowAway) of rows
// that never come back: beyond it, those of the oldest drops go. A
// household that comes back after that many others left does not tell a
// loss its snapshot names (the server's conflict log still holds it).
const maxTakenNotes = 20000

// boundTakenNotes forgets the notes beyond maxTakenNotes, oldest first.
// Counted first: nearly always there are none, or a few.
func (t *txn) boundTakenNotes() error {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM own_away WHERE taken`).Scan(&n); err != nil || n <= maxTakenNotes {
		return err
	}
	return t.exec(`DELETE FROM own_away WHERE taken AND (row_id, field) IN
		(SELECT row_id, field FROM own_away WHERE taken ORDER BY noted_at DESC, row_id, field LIMIT -1 OFFSET ?)`, maxTakenNotes)
}

// forgetAway forgets what keepAway kept of id.
func (t *txn) forgetAway(id syncproto.RowID) error {
	if err := t.exec(`DELETE FROM own_away WHERE row_id = ?`, id.String()); err != nil {
		return err
	}
	if err := t.exec(`DELETE FROM own_away_seen WHERE row_id = ?`, id.String()); err != nil {
		return err
	}
	return t.exec(`DELETE FROM own_away_hist WHERE row_id = ?`, id.String())
}

// restampAway gives a kept own write d (current or in a kept history)
// the stamp the server gave it.
func (t *txn) restampAway(d syncproto.Dot, h syncproto.HLC) error {
	if err := t.exec(`UPDATE own_away SET hlc = ? WHERE replica = ? AND seq = ?`, int64(h), d.Replica[:], int64(d.Seq)); err != nil {
		return err
	}
	return t.exec(`UPDATE own_away_hist SET hlc = ? WHERE replica = ? AND seq = ?`, int64(h), d.Replica[:], int64(d.Seq))
}

// seqRanges is a set of outbox sequences: single changes and the ranges of
// compact entries.
type seqRanges [][2]uint64

func (s seqRanges) holds(seq uint64) bool {
	for _, r := range s {
		if seq >= r[0] && seq <= r[1] {
			return true
		}
	}
	return false
}

// pendingSeqs lists the sequences of id's changes that await a result.
func (t *txn) pendingSeqs(id syncproto.RowID) (seqRanges, error) {
	return t.seqsIn(id, outboxPending, outboxUnacked)
}

// unsettledSeqs lists the sequences of id's changes the server has not
// taken: awaiting a result, or refused.
func (t *txn) unsettledSeqs(id syncproto.RowID) (seqRanges, error) {
	out, err := t.pendingSeqs(id)
	if err != nil {
		return nil, err
	}
	refused, err := t.seqsIn(id, outboxRejected, outboxRejected)
	return append(out, refused...), err
}

// seqsIn lists the sequences of id's changes in outbox state a or b.
func (t *txn) seqsIn(id syncproto.RowID, a, b int) (seqRanges, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, seq FROM outbox WHERE row_id = ? AND state IN (?, ?)
		UNION ALL SELECT seq, seq + n - 1 FROM outbox_rows WHERE row_id = ? AND state IN (?, ?)`,
		id.String(), a, b, id.String(), a, b)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out seqRanges
	for rows.Next() {
		var lo, hi int64
		if err := rows.Scan(&lo, &hi); err != nil {
			return nil, err
		}
		out = append(out, [2]uint64{uint64(lo), uint64(hi)})
	}
	return out, rows.Err()
}

// awayRowsIn lists the rows of hamlets (about to be dropped) whose own
// writes keepRowAway keeps: with changes awaiting a result, or answered
// superseded by a winner this replica has not met.
func (t *txn) awayRowsIn(hamlets []string) ([]syncproto.RowID, error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	args := []any{outboxPending, outboxUnacked}
	for _, h := range hamlets {
		args = append(args, h)
	}
	args = append(args, args...)
	for _, h := range hamlets {
		args = append(args, h)
	}
	q := `SELECT row_id FROM outbox WHERE state IN (?, ?) AND row_id IN (SELECT id FROM row_state WHERE scope IN ` + in + `)
		UNION SELECT row_id FROM outbox_rows WHERE state IN (?, ?) AND row_id IN (SELECT id FROM row_state WHERE scope IN ` + in + `)
		UNION SELECT row_id FROM superseded WHERE row_id IN (SELECT id FROM row_state WHERE scope IN ` + in + `)`
	return t.rowIDs(q, args...)
}

// ownRows lists the rows where matches (an SQL condition on row_state;
// args its parameters) whose state holds a version this replica wrote,
// under its id or a former one: those a drop notes writes of
// (keepRowAway). The compact states name their replicas' ids as they are;
// a state not rewritten to them yet (restate) is listed too.
func (t *txn) ownRows(where string, args ...any) ([]syncproto.RowID, error) {
	own, err := t.ownIDs()
	if err != nil {
		return nil, err
	}
	q := `SELECT id FROM row_state WHERE (` + where + `) AND (substr(state, 1, 1) NOT IN (x'c1', x'c2')`
	for _, id := range own {
		q += ` OR instr(state, ?) > 0`
		args = append(args, id[:])
	}
	return t.rowIDs(q+`)`, args...)
}

// rowIDs runs q, whose rows are one row id each, and parses them.
func (t *txn) rowIDs(q string, args ...any) ([]syncproto.RowID, error) {
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syncproto.RowID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, &FileError{Path: t.r.path, Kind: ErrCorrupt, Err: fmt.Errorf("row id %q: %w", s, err)}
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// anyAway says whether any own version waits for its row to come back.
func (t *txn) anyAway() (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM own_away)`).Scan(&n)
	return n != 0, err
}

// takeAway returns the row state id starts from when a pull, a back-fill or
// a clone brings it back (nil: nothing kept that the server has not taken)
// and forgets what it kept. gone is, per field, the own write of it the
// server took that the drop noted or kept (nil: none): the replica no
// longer holds it, but a snapshot or a pulled batch that names it as a
// loss tells the volunteer (cloneTxn.superseded, pullTxn.toldGone).
//
// keepGone keeps what it returns as gone noted (taken) until a change of
// its field meets it (pullTxn.toldGone): a pull brings a row back field
// by field, and a move's re-log of it may run over pages stored in
// separate transactions, the loss of a field named with the page that
// sends it (Changes.Lost); a snapshot may leave a field out for the pull
// from its head (leaveOut). Forgotten at the row's first change,
// a loss named in a later transaction's page was never told. A complete
// pull forgets what is left (forgetSuperseded).
func (t *txn) takeAway(table string, id syncproto.RowID, scope string, keepGone bool) (st *rowState, gone map[string]*syncproto.Version, err error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, kind, value, hlc, replica, seq, base_replica, base_seq, taken FROM own_away WHERE row_id = ? AND tbl = ?`, id.String(), table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var taken bool
		field, ver, err := scanAwayVersion(rows, &taken)
		if err != nil {
			return nil, nil, err
		}
		v := &ver
		if taken {
			if gone == nil {
				gone = map[string]*syncproto.Version{}
			}
			gone[field] = v
			continue
		}
		if st == nil {
			st = newRowState(table, id, scope)
		}
		st.cur[field] = v
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	if st == nil {
		if gone == nil {
			return nil, nil, nil // nothing kept
		}
		return nil, gone, t.settleAway(id, nil, keepGone)
	}
	// Only what the server has not taken yet: a kept write it took while
	// the row was away is the server's to bring back, or what became of it
	// (the snapshot, the move's re-log, the write itself marked by
	// server/apply.go ownBack). Started from, a write over it made since
	// would meet it as a concurrent write (review 31). But for a write the
	// server took as a loser (superseded) whose winner this replica never
	// met: the row comes back with the winner, or a write over it, which
	// meets the kept write as the pull would have had the row stayed (a
	// conflict, apply.go) or as a clone's superseded list does
	// (superseded.go). Forgotten, the volunteer whose write lost was never
	// told (issue 17: seed 8400266 of the wide world). One the server took
	// as the field's value is gone, as noted ones are.
	keeps, _, err := t.keptOf(id)
	if err != nil {
		return nil, nil, err
	}
	for f, v := range st.cur {
		if !keeps(f, v.Dot) {
			if gone == nil {
				gone = map[string]*syncproto.Version{}
			}
			gone[f] = v
			delete(st.cur, f)
		}
	}
	if len(st.cur) == 0 {
		return nil, gone, t.settleAway(id, nil, keepGone)
	}
	if err := t.takeAwayHist(st); err != nil {
		return nil, nil, err
	}
	return st, gone, t.settleAway(id, st, keepGone)
}

// settleAway forgets what keepAway kept of id once takeAway took it: all
// of it, or, with keepGone, all but the writes it returned as gone, noted
// (taken) from now on; st is what the row starts from (nil: nothing).
func (t *txn) settleAway(id syncproto.RowID, st *rowState, keepGone bool) error {
	if !keepGone {
		return t.forgetAway(id)
	}
	if st != nil {
		if err := t.exec(`DELETE FROM own_away WHERE row_id = ? AND field IN (SELECT value FROM json_each(?))`,
			id.String(), listJSON(slices.Collect(maps.Keys(st.cur)))); err != nil {
			return err
		}
	}
	if err := t.exec(`UPDATE own_away SET taken = 1 WHERE row_id = ? AND NOT taken`, id.String()); err != nil {
		return err
	}
	return t.exec(`DELETE FROM own_away_hist WHERE row_id = ?`, id.String())
}

// takeAwayLeaving is takeAway for a row a snapshot's chunk brings back,
// told the losses the chunk named on fields it left out: their notes stay,
// marked (leaveOut), and the others go.
func (t *txn) takeAwayLeaving(table string, id syncproto.RowID, scope string, told []syncproto.LostWrite) (*rowState, map[string]*syncproto.Version, error) {
	st, gone, err := t.takeAway(table, id, scope, len(told) > 0)
	if err != nil || len(told) == 0 {
		return st, gone, err
	}
	return st, gone, t.leaveOut(id, told)
}

// leaveOut keeps, of row id's notes (taken), those a snapshot's chunk
// named as lost (told) on fields it left out: the pull from its head
// brings their versions, and the first later one to meet the note tells
// the volunteer her write lost (pullTxn.toldGone). The other notes go, as
// takeAway forgets them: those of the fields sent met their version
// (cloneTxn.superseded).
func (t *txn) leaveOut(id syncproto.RowID, told []syncproto.LostWrite) error {
	// A mark left by an earlier attempt of the clone names a field this
	// chunk may send: that field met its version (cloneTxn.superseded).
	if err := t.exec(`UPDATE own_away SET told = 0 WHERE row_id = ? AND told`, id.String()); err != nil {
		return err
	}
	for _, l := range told {
		if err := t.toldAway(l); err != nil {
			return err
		}
	}
	return t.exec(`DELETE FROM own_away WHERE row_id = ? AND taken AND NOT told`, id.String())
}

// toldAway marks the note of l's loser, if this replica noted it, as a
// loss a snapshot named on a field it left out (awayToldMigration).
func (t *txn) toldAway(l syncproto.LostWrite) error {
	return t.exec(`UPDATE own_away SET told = 1 WHERE row_id = ? AND field = ? AND taken AND replica = ? AND seq = ?`,
		l.Row.String(), l.Field, l.Loser.Replica[:], int64(l.Loser.Seq))
}

// toldFields reads the fields whose note a snapshot named as lost
// (toldAway), per row.
func (t *txn) toldFields() (map[syncproto.RowID]map[string]bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT row_id, field FROM own_away WHERE told AND taken`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out map[syncproto.RowID]map[string]bool
	for rows.Next() {
		var idText, field string
		if err := rows.Scan(&idText, &field); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[syncproto.RowID]map[string]bool{}
		}
		if out[id] == nil {
			out[id] = map[string]bool{}
		}
		out[id][field] = true
	}
	return out, rows.Err()
}

// goneOf reads the noted writes of row id (taken): per field, the version.
func (t *txn) goneOf(id syncproto.RowID) (map[string]*syncproto.Version, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, kind, value, hlc, replica, seq, base_replica, base_seq FROM own_away WHERE row_id = ? AND taken`, id.String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	gone := map[string]*syncproto.Version{}
	for rows.Next() {
		field, v, err := scanAwayVersion(rows)
		if err != nil {
			return nil, err
		}
		gone[field] = &v
	}
	return gone, rows.Err()
}

// scanAwayVersion reads one row of own_away or own_away_hist selected as
// field, kind, value, hlc, replica, seq, base_replica, base_seq, then
// extra: the field and its version.
func scanAwayVersion(rows *sql.Rows, extra ...any) (string, syncproto.Version, error) {
	var field string
	var kind, hlc, seq, baseSeq int64
	var val any
	var replica, base []byte
	if err := rows.Scan(append([]any{&field, &kind, &val, &hlc, &replica, &seq, &base, &baseSeq}, extra...)...); err != nil {
		return "", syncproto.Version{}, err
	}
	return field, syncproto.Version{Value: valueFrom(kind, val), HLC: syncproto.HLC(hlc),
		Dot: dotFrom(replica, seq), Base: dotFrom(base, baseSeq)}, nil
}

// takeAwayHist restores the history keepAway kept with st's versions.
func (t *txn) takeAwayHist(st *rowState) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, kind, value, hlc, replica, seq, base_replica, base_seq FROM own_away_hist WHERE row_id = ? ORDER BY pos`, st.id.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		field, v, err := scanAwayVersion(rows)
		if err != nil {
			return err
		}
		if st.cur[field] == nil {
			continue // its kept version was refused meanwhile
		}
		st.hist = append(st.hist, histEntry{Field: field, Ver: v})
	}
	return rows.Err()
}

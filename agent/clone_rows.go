package agent

import (
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// cloneTxn turns chunks into row states. A row the replica does not hold
// (the usual case: a fresh replica) takes the chunk's versions as they
// are; one it holds (written here before the clone, or stored by an
// earlier attempt) merges field by field with Resolve, as a pull would.
type cloneTxn struct {
	r         *Replica
	t         *txn
	now       int64
	save      []*rowState
	maxHLC    syncproto.HLC
	conflicts int
	// away: the replica keeps writes of rows it dropped (own_away).
	away bool
	// listed: clone_drop lists rows held when the clone started
	// (holdSynced); brought, the rows the chunks bring, which unlist takes
	// off the list.
	listed  bool
	brought []string
	// pending: the rows with changes awaiting a result, when listed. A
	// listed row without any is replaced by the snapshot's versions
	// alone: its state is not read (a re-clone lists every row).
	pending map[string]bool
	// lost: this replica's writes the server answered superseded, whose
	// winner it has not met (superseded.go), per row and field.
	lost map[syncproto.RowID]map[string][]syncproto.Dot
	// told: the conflicts the server logged on the chunk's rows
	// (SnapshotChunk.Lost), per row and field.
	told map[syncproto.RowID]map[string][]syncproto.LostWrite
	// kept: the rows kept for a refused change still to be brought
	// (metaCloneKeptRefused); keptBrought, those the chunks brought.
	kept        map[string]bool
	keptBrought []string
}

// newCloneTxn stores chunks in t.
func newCloneTxn(r *Replica, t *txn) (*cloneTxn, error) {
	away, err := t.anyAway()
	if err != nil {
		return nil, err
	}
	var listed bool
	if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM clone_drop)`).Scan(&listed); err != nil {
		return nil, err
	}
	g := &cloneTxn{r: r, t: t, now: r.now().UnixMilli(), away: away, listed: listed}
	if g.lost, err = t.supersededByRow(); err != nil {
		return nil, err
	}
	if g.kept, err = t.keptRefused(); err != nil {
		return nil, err
	}
	if listed {
		ids, err := t.strings(`SELECT row_id FROM outbox WHERE state IN (?, ?) UNION SELECT row_id FROM outbox_rows WHERE state IN (?, ?)`,
			outboxPending, outboxUnacked, outboxPending, outboxUnacked)
		if err != nil {
			return nil, err
		}
		g.pending = make(map[string]bool, len(ids))
		for _, id := range ids {
			g.pending[id] = true
		}
	}
	return g, nil
}

// unlist takes the rows the chunks brought off clone_drop: the clone's
// end does not drop them.
func (g *cloneTxn) unlist() error {
	if len(g.keptBrought) > 0 {
		if err := g.t.unlistKeptRefused(g.kept, g.keptBrought); err != nil {
			return err
		}
	}
	if len(g.brought) == 0 {
		return nil
	}
	return g.t.exec(`DELETE FROM clone_drop WHERE row_id IN (SELECT value FROM json_each(?))`, listJSON(g.brought))
}

// add adds one chunk's rows; it returns how many rows the chunk had.
func (g *cloneTxn) add(m *syncproto.SnapshotChunk) (int, error) {
	cs := m.Rows
	clear(g.told)
	for _, l := range m.Lost {
		if g.told == nil {
			g.told = map[syncproto.RowID]map[string][]syncproto.LostWrite{}
		}
		if g.told[l.Row] == nil {
			g.told[l.Row] = map[string][]syncproto.LostWrite{}
		}
		g.told[l.Row][l.Field] = append(g.told[l.Row][l.Field], l)
	}
	names := make([]string, len(cs)) // the fresh rows' fields in order (row)
	var sent map[syncproto.RowID]bool
	if len(m.Lost) > 0 && g.away {
		sent = map[syncproto.RowID]bool{}
	}
	rows := 0
	for i := 0; i < len(cs); {
		// One table's run of rows: held rows are found with one range
		// query (ids sort as their text does), not one lookup per row.
		j := i
		for j < len(cs) && cs[j].Table == cs[i].Table {
			j++
		}
		held, listed, err := g.heldIn(cs[i].Table, cs[i].Row, cs[j-1].Row)
		if err != nil {
			return 0, err
		}
		for k := i; k < j; {
			l := k + 1
			for l < j && cs[l].Row == cs[k].Row {
				l++
			}
			if err := g.row(cs[k:l], names[k:l:l], held[cs[k].Row], listed[cs[k].Row]); err != nil {
				return 0, err
			}
			if sent != nil {
				sent[cs[k].Row] = true
			}
			rows++
			k = l
		}
		i = j
	}
	if sent != nil {
		if err := g.toldAbsent(m.Lost, sent); err != nil {
			return 0, err
		}
	}
	return rows, nil
}

// toldLeftOut returns the losses the chunk named (told) on fields of cs's
// row that it left out: the pull from the snapshot's head brings them.
func (g *cloneTxn) toldLeftOut(cs []syncproto.Change) []syncproto.LostWrite {
	told := g.told[cs[0].Row]
	if len(told) == 0 {
		return nil
	}
	var out []syncproto.LostWrite
	for _, field := range slices.Sorted(maps.Keys(told)) { // in order: a seed replays the same statements
		if !slices.ContainsFunc(cs, func(c syncproto.Change) bool { return c.Field == field }) {
			out = append(out, told[field]...)
		}
	}
	return out
}

// toldAbsent marks the notes of the losses the chunk named on rows it
// sent nothing of (sent: the rows it sent), every field of them left out
// for the pull from its head (toldAway).
func (g *cloneTxn) toldAbsent(lost []syncproto.LostWrite, sent map[syncproto.RowID]bool) error {
	for _, l := range lost {
		if !sent[l.Row] {
			if err := g.t.toldAway(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// heldIn reads the rows of table from from to to that the replica holds,
// and which of them clone_drop lists.
func (g *cloneTxn) heldIn(table string, from, to syncproto.RowID) (map[syncproto.RowID]*rowState, map[syncproto.RowID]bool, error) {
	q := `SELECT id, scope, state, 0 FROM row_state WHERE id >= ? AND id <= ? AND tbl = ?`
	if g.listed {
		q = `SELECT id, scope, state, id IN (SELECT row_id FROM clone_drop) FROM row_state WHERE id >= ? AND id <= ? AND tbl = ?`
	}
	st, err := g.t.stmt(q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.QueryContext(g.t.ctx, from.String(), to.String(), table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var raws []rawState
	var listed map[syncproto.RowID]bool
	for rows.Next() {
		var idText, scope string
		var blob []byte
		var in bool
		if err := rows.Scan(&idText, &scope, &blob, &in); err != nil {
			return nil, nil, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, nil, err
		}
		if in {
			if listed == nil {
				listed = map[syncproto.RowID]bool{}
			}
			listed[id] = true
			if !g.pending[idText] {
				continue // replaced whole (row): no need to read it
			}
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	if err := rows.Err(); err != nil || len(raws) == 0 {
		return nil, listed, err
	}
	rows.Close()
	states, err := g.t.r.decodeRows(g.t.ctx, g.t.q(), raws)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[syncproto.RowID]*rowState, len(states))
	for _, s := range states {
		out[s.id] = s
	}
	return out, listed, nil
}

// row stores one row's fields (cs, all of one row); st is the row as the
// replica holds it (nil: it does not), listed whether clone_drop lists it.
// names, as long as cs, is room for a fresh row's field names.
func (g *cloneTxn) row(cs []syncproto.Change, names []string, st *rowState, listed bool) error {
	c0 := &cs[0]
	taken := false
	var gone map[string]*syncproto.Version
	leftOut := g.toldLeftOut(cs)
	held := st != nil || listed
	named := len(g.lost[c0.Row]) > 0 || len(g.told[c0.Row]) > 0
	if st == nil && !listed && g.away {
		// A row coming back (a back-fill of a hamlet regained, a clone
		// resumed) starts, as in a pull (apply.go), from the writes this
		// replica kept when it dropped the row, and forgets them: left
		// kept, a later return by a pull would start from them again,
		// and the versions written over them since would meet them as
		// concurrent writes (review 30 D3). Taken before the superseded
		// notes are read: a kept write the server answered superseded is
		// one of them (takeAway).
		var err error
		if st, gone, err = g.t.takeAwayLeaving(c0.Table, c0.Row, c0.Scope, leftOut); err != nil {
			return err
		}
		taken = st != nil
	}
	if st == nil && listed && named {
		// A listed row without a change awaiting a result is not read
		// (heldIn), but the losses below compare what it holds, and a
		// write of its own answered superseded is kept (keepRowAway
		// below) for its field's winner to meet if the chunk leaves the
		// field out: one written after the snapshot's head, which the
		// pull from the head brings. Dropped with the row's other
		// versions, the pull installed the winner over nothing, and the
		// volunteer whose write lost never learnt it (simulation seed
		// 8640824 of every world).
		var err error
		if st, err = g.t.get(c0.Row); err != nil {
			return err
		}
	}
	if held && named && g.away {
		// A return cut short (a back-fill's chunk stored, the pull from
		// its head not; a move's re-log over pages, cut after the first)
		// left the row here without the field, or with the version her
		// write was made over, and the note of her write (leaveOut,
		// takeAway's keepGone). The chunk of a clone since sends the
		// field and names her loss: not compared with the note, the note
		// went with the row's other ones (keepRowAway below, or the
		// complete pull's cleanup when an Ack took the row off clone_drop
		// first), and she was never told (stop 68).
		var err error
		if gone, err = g.t.goneOf(c0.Row); err != nil {
			return err
		}
	}
	// First the conflicts the server logged for writes of this replica
	// it answered superseded: the versions below replace them unseen.
	if err := g.superseded(cs, st, gone); err != nil {
		return err
	}
	if g.listed {
		// Brought by the snapshot, the row is not the clone's end's to
		// drop, held or not (a scope change since the clone started may
		// have dropped it meanwhile).
		g.brought = append(g.brought, c0.Row.String())
	}
	if g.kept[c0.Row.String()] {
		g.keptBrought = append(g.keptBrought, c0.Row.String()) // the server holds it here
	}
	if listed && st == nil {
		// Listed, with no change awaiting a result (heldIn did not read
		// it): as below, with nothing to keep.
		if g.away {
			if err := g.t.forgetAway(c0.Row); err != nil {
				return err
			}
		}
		taken = true
	} else if listed {
		// A synced row held when the clone started (holdSynced): the
		// snapshot replaces it as if it had been dropped then and came
		// back now, from its own writes not pushed yet (keepRowAway, as
		// the drop kept them, and takeAway below) and the snapshot's
		// versions, nothing else. Merged whole with the snapshot's, a
		// version stored by a clone that had to start again, or one the
		// server moved or wrote over since, would meet the snapshot's as
		// a concurrent write (wide seed 2100).
		if err := g.t.keepRowAway(st.id, st, len(leftOut) > 0); err != nil {
			return err
		}
		st, taken = nil, true
		var err error
		if st, _, err = g.t.takeAwayLeaving(c0.Table, c0.Row, c0.Scope, leftOut); err != nil {
			return err
		}
	}
	if st == nil {
		// A fresh row: its versions in one allocation, its map sized once.
		st = &rowState{id: c0.Row, table: c0.Table, scope: c0.Scope, cur: make(map[string]*syncproto.Version, len(cs))}
		vs := make([]syncproto.Version, len(cs))
		sorted := true
		for i := range cs {
			c := &cs[i]
			vs[i] = syncproto.VersionOf(c)
			st.cur[c.Field] = &vs[i]
			g.maxHLC = max(g.maxHLC, c.HLC)
			names[i] = c.Field
			sorted = sorted && (i == 0 || names[i-1] < names[i])
		}
		if sorted { // as the server sends them: encode need not sort them again
			st.order = names
		}
		g.save = append(g.save, st)
		return nil
	}
	changed := false
	var unsettled seqRanges // own changes the server has not taken (yet)
	unsettledRead := false
	for i := range cs {
		c := &cs[i]
		g.maxHLC = max(g.maxHLC, c.HLC)
		if cur := st.cur[c.Field]; cur != nil && cur.Dot != c.Dot && c.Dot.Replica != g.r.id {
			// A version the server took against another's version of the
			// field, as the server holds it: its state came after it, and
			// the version is what became of it there (written over it,
			// through writes this replica never saw, or the winner of a
			// conflict the server recorded). Merged, a version two writes
			// after it would count as a concurrent write that beat it: for
			// our own write (simulation silent seed 248311), ours under an
			// id this file wrote under before a fork, which its other copy
			// may have written over twice under that id (wide and silent
			// seed 4405847), and a teammate's version a row kept through a
			// restarted clone for its refused change holds, stored by the
			// first attempt (review 36,
			// TestRestartedCloneKeptRefusedRowNoConflictOnTeammateField).
			// Only our own write the server has not taken (pending or
			// refused) meets the version as a concurrent one. Under a
			// former id it was taken: a fork renumbers every change not
			// taken, kept refusals too, and the outbox numbers are the
			// new id's.
			if !unsettledRead && cur.Dot.Replica == g.r.id {
				var err error
				if unsettled, err = g.t.unsettledSeqs(st.id); err != nil {
					return err
				}
				unsettledRead = true
			}
			if cur.Dot.Replica != g.r.id || !unsettled.holds(cur.Dot.Seq) {
				st.hist = append(st.hist, histEntry{Field: c.Field, Ver: *cur})
				v := syncproto.VersionOf(c)
				st.cur[c.Field], st.scope = &v, c.Scope // as merge installs
				changed = true
				continue
			}
		}
		if c.Dot.Replica == g.r.id && st.cur[c.Field] != nil {
			// Our own write, as the server holds it: where we hold a
			// version of the field we hold this one or one we wrote or
			// took after it, as a pull decides (apply.go). Merged, a write
			// of ours that we corrected twice since (both still to push)
			// would meet the second correction, whose base is the first,
			// and count as a concurrent write that lost (simulation seed
			// 198 with truncation).
			continue
		}
		o, newConflict, err := g.t.merge(st, c, g.now)
		if err != nil {
			return err
		}
		if newConflict {
			g.conflicts++
		}
		changed = changed || stateChanged(o)
	}
	if changed || taken {
		g.save = append(g.save, st)
	}
	return nil
}

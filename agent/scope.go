package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A team's hamlets change without a re-clone (issue 9 part 1). The replica
// remembers the hamlets it holds (agent_meta "scope_held"). When a Welcome
// brings a different scope, after this session's push (so edits made
// while a hamlet was in scope reach the server and are judged there):
//
//   - for each hamlet it lost, it drops only that hamlet's rows (row_state
//     and the materialised tables); outbox entries stay, pending ones still
//     pushed, refused ones in 'rejected';
//   - for each hamlet it gained, it back-fills only that hamlet by a scoped
//     snapshot (SnapshotRequest.Scopes): the current rows of those hamlets,
//     tombstones included, in chunks, its position in agent_meta
//     "backfill_head", "backfill_table", "backfill_row" (resumable); the
//     normal cursor stays where it was until the back-fill ends, and the
//     pull after it brings what changed since. Versions received twice
//     merge as duplicates.
//
// A back-fill reads no old log (issue 17): a log back-fill from cursor 0
// brought the entries a moved row left in its old hamlet and so brought
// back rows deleted and collected since, missed a delete collected while
// it was cut (the device's normal cursor, not the back-fill's, held
// collection back), and could not be complete once the log was truncated.
// The log back-fill (Pull.Scopes) is kept only for a server too old to
// offer snapshots.

const (
	metaScopeHeld = "scope_held"
	// metaScopeWritten is hamlets a Welcome let this replica write in
	// that it never took as held: the session ended between the Welcome
	// and rescope. The next rescope drops them if the scope lost them.
	metaScopeWritten = "scope_written"
	// metaScopeStray is hamlets a write landed in that this replica
	// neither holds nor was let write in by its last Welcome (noteWrittenIn):
	// the next rescope drops their rows, without reporting a change of
	// scope the volunteer heard of already.
	metaScopeStray     = "scope_stray"
	metaBackfillScopes = "backfill_scopes"
	metaBackfillCursor = "backfill_cursor" // the log back-fill's position
	metaBackfillHead   = "backfill_head"   // the snapshot back-fill's: its first chunk's head,
	metaBackfillTable  = "backfill_table"  // and the last row stored
	metaBackfillRow    = "backfill_row"
	// metaBackfillDone: the field versions the chunks stored so far
	// brought, so the sync that ends a back-fill cut over several tells
	// all it brought, not its own part.
	metaBackfillDone = "backfill_done"
	// metaBackfillPartial set to 1: the team lost some of the back-fill's
	// hamlets after its first chunks were stored; metaBackfillDone counts
	// their changes too, so the back-fill is told without a count
	// (untoldFill.Partial), as one that lost a hamlet after it ended.
	metaBackfillPartial = "backfill_partial"
)

// backfillKeys are the back-fill's state: forgotten when it ends, starts
// again or gives way to a clone.
var backfillKeys = []string{metaBackfillScopes, metaBackfillCursor, metaBackfillHead, metaBackfillTable, metaBackfillRow, metaBackfillDone, metaBackfillPartial}

// ScopeChange is what a Welcome's new scope did to this replica.
type ScopeChange struct {
	Gained []string `json:"gained,omitempty"`
	Lost   []string `json:"lost,omitempty"`
	// Dropped is the rows of lost hamlets removed from the replica.
	Dropped int `json:"dropped,omitempty"`
	// KeptEdits is the local edits to lost hamlets still in the outbox
	// (pending, or refused and listed in 'rejected').
	KeptEdits int `json:"kept_edits,omitempty"`
	// Backfilled is the field versions received for gained hamlets.
	Backfilled int `json:"backfilled,omitempty"`
	// Filled, set when a back-fill ended in this sync, names the hamlets
	// it brought, and FilledTotal counts the field versions it brought
	// over every sync it took: a back-fill cut in earlier syncs ends in
	// one whose Gained is empty and whose Backfilled is its last part.
	Filled      []string `json:"filled,omitempty"`
	FilledTotal int      `json:"filled_total,omitempty"`
	// FilledPart: the team lost some of the back-fill's hamlets before
	// it was told. Filled names those it still covers; FilledTotal is 0,
	// what the back-fill brought being counted for them all.
	FilledPart bool `json:"filled_part,omitempty"`
	// LostPart: the team gained again some of the hamlets it lost before
	// the loss was told (metaLostUntold). Lost names those it still does
	// not cover; Dropped is 0, the rows dropped being counted for them all.
	LostPart bool `json:"lost_part,omitempty"`
}

func (c ScopeChange) empty() bool { return len(c.Gained) == 0 && len(c.Lost) == 0 && c.Backfilled == 0 }

func (r *Replica) metaList(ctx context.Context, q querier, key string) ([]string, bool, error) {
	s, err := r.meta(ctx, q, key)
	if err != nil {
		return nil, false, err
	}
	return r.noteList(s)
}

// noteList reads s, the text of a list note already read, as
// metaList does.
func (r *Replica) noteList(s string) ([]string, bool, error) {
	if s == "" {
		return nil, false, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, false, &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	return out, true, nil
}

func listJSON(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// noteHeldScope records the hamlets this replica holds, when none are
// recorded yet: the scope it enrolled with (or last synced with), before
// a Welcome's scope or a new enrollment's replaces it. Only for a replica
// that holds data (holdsData): one that holds nothing holds the
// Welcome's scope (welcome), and forgets what was noted when enrolled
// again (EnrollWith).
func (r *Replica) noteHeldScope(ctx context.Context, n *scopeNotes) (wrote bool, err error) {
	if _, ok, err := r.noteList(n.held); err != nil || ok {
		return false, err
	}
	e, err := r.enrollmentOf(n.enrollment)
	if err != nil || e == nil {
		return false, err
	}
	held := make([]string, 0, len(e.Scope))
	for _, h := range e.Scope {
		held = append(held, h.Code)
	}
	return true, setMeta(ctx, r.writer(), metaScopeHeld, listJSON(held))
}

// noteWritable records, before a Welcome or a new enrollment replaces the
// enrollment's scope, the hamlets of that scope this replica does not
// hold: the volunteer may have written rows there since the Welcome that
// brought them, whose session ended before rescope took them as held.
// Without this a Welcome that no longer lists them matches the held
// hamlets, and those rows stay on the laptop for good, outside its
// team's hamlets (issue 17, wide seed 1124687).
func (r *Replica) noteWritable(ctx context.Context, n *scopeNotes) error {
	held, ok, err := r.noteList(n.held)
	if err != nil || !ok {
		return err
	}
	e, err := r.enrollmentOf(n.enrollment)
	if err != nil || e == nil {
		return err
	}
	written, _, err := r.noteList(n.written)
	if err != nil {
		return err
	}
	k := len(written)
	for _, h := range e.Scope {
		if !slices.Contains(held, h.Code) && !slices.Contains(written, h.Code) {
			written = append(written, h.Code)
		}
	}
	if len(written) == k {
		return nil
	}
	return setMeta(ctx, r.writer(), metaScopeWritten, listJSON(sortedCopy(written)))
}

// noteScope is noteHeldScope, then noteWritable, for a replica that holds
// data, by the notes read (scopeNotes): read again when noteHeldScope
// wrote, for noteWritable reads what it wrote.
func (r *Replica) noteScope(ctx context.Context, n *scopeNotes) error {
	wrote, err := r.noteHeldScope(ctx, n)
	if err != nil {
		return err
	}
	if wrote {
		if n, err = r.scopeNotes(ctx); err != nil {
			return err
		}
	}
	return r.noteWritable(ctx, n)
}

// noteWrittenIn notes (scope_stray) a hamlet a write lands in that this
// replica does not hold and its last Welcome did not name: a write over a
// row kept beside a refusal in a hamlet lost since, a refused change sent
// again there. The server may take it (the team held the hamlet when it
// was written, or got it back), and a Welcome naming the hamlets the
// replica holds changes no scope: the row stayed on the laptop outside
// its team's hamlets for good (review 39, R2). Noted, the next rescope
// drops the hamlet's rows as a lost hamlet's, keeping those beside their
// refusals. A hamlet the last Welcome named is noteWritable's.
func (r *Replica) noteWrittenIn(t *txn, hamlet string) error {
	held, ok, err := r.metaList(t.ctx, t.tx, metaScopeHeld)
	if err != nil || !ok || slices.Contains(held, hamlet) {
		return err
	}
	e, err := r.enrollment(t.ctx, t.tx)
	if err != nil || e == nil || slices.ContainsFunc(e.Scope, func(h Hamlet) bool { return h.Code == hamlet }) {
		return err
	}
	stray, _, err := r.metaList(t.ctx, t.tx, metaScopeStray)
	if err != nil || slices.Contains(stray, hamlet) {
		return err
	}
	return t.setMeta(metaScopeStray, listJSON(sortedCopy(append(stray, hamlet))))
}

// HeldScope is the hamlets whose rows this replica holds (or is
// back-filling), and those still being back-filled.
func (r *Replica) HeldScope(ctx context.Context) (held, backfilling []string, err error) {
	if held, _, err = r.metaList(ctx, r.db, metaScopeHeld); err != nil {
		return nil, nil, err
	}
	backfilling, _, err = r.metaList(ctx, r.db, metaBackfillScopes)
	return held, backfilling, err
}

// rescope applies a Welcome's scope: drops the rows of lost hamlets and
// notes gained ones for back-fill, in one transaction. pushedBefore is the
// Welcome's PushedSeq: the server held this replica's changes up to it
// before the session (noteCarried).
func (r *Replica) rescope(ctx context.Context, scope []string, cursor, pushedBefore uint64) (ScopeChange, error) {
	var ch ScopeChange
	// The three lists in one statement, at one moment (three reads, each
	// taking SQLite's read lock, at every sync).
	notes, err := r.metas(ctx, r.db, metaScopeHeld, metaScopeWritten, metaScopeStray)
	if err != nil {
		return ch, err
	}
	held, ok, err := r.noteList(notes[0])
	if err != nil {
		return ch, err
	}
	if !ok {
		// An unenrolled replica (tests, or an old file): what it has is
		// what the server says it may hold.
		return ch, setMeta(ctx, r.writer(), metaScopeHeld, listJSON(scope))
	}
	written, _, err := r.noteList(notes[1])
	if err != nil {
		return ch, err
	}
	stray, _, err := r.noteList(notes[2])
	if err != nil {
		return ch, err
	}
	for _, h := range scope {
		if !slices.Contains(held, h) {
			ch.Gained = append(ch.Gained, h)
		}
	}
	for _, h := range held {
		if !slices.Contains(scope, h) {
			ch.Lost = append(ch.Lost, h)
		}
	}
	// A hamlet written in and never held, now gone: its rows are dropped
	// like a held one's; one still in scope is gained above.
	for _, h := range written {
		if !slices.Contains(scope, h) && !slices.Contains(ch.Lost, h) {
			ch.Lost = append(ch.Lost, h)
		}
	}
	slices.Sort(ch.Lost)
	// Hamlets written in since they were lost (noteWrittenIn): their rows
	// go as a lost hamlet's, unreported; one the team has got back is
	// gained above.
	strayRead := slices.Clone(stray)
	stray = slices.DeleteFunc(stray, func(h string) bool { return slices.Contains(scope, h) || slices.Contains(ch.Lost, h) })
	if len(ch.Gained) == 0 && len(ch.Lost) == 0 && len(written) == 0 && len(strayRead) == 0 {
		return ch, nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return ch, err
	}
	defer t.rollback()
	// What was read is done with here; a hamlet another process (the app
	// while the CLI syncs) noted since stays noted for the next session.
	if err := errors.Join(t.forgetNoted(metaScopeWritten, written), t.forgetNoted(metaScopeStray, strayRead)); err != nil {
		return ch, err
	}
	if len(stray) > 0 {
		if _, _, err := t.dropHamlets(stray, scope); err != nil {
			return ch, fmt.Errorf("drop the rows written in hamlets lost before: %w", err)
		}
	}
	if len(ch.Gained) == 0 && len(ch.Lost) == 0 {
		return ch, t.commit()
	}
	if err := t.forgetLost(ch.Gained); err != nil {
		return ch, fmt.Errorf("forget the loss not told yet of the hamlets gained again: %w", err)
	}
	if len(ch.Lost) > 0 {
		if ch.Dropped, ch.KeptEdits, err = t.dropHamlets(ch.Lost, scope); err != nil {
			return ch, err
		}
		if err := t.noteLost(ch.Lost, ch.Dropped); err != nil {
			return ch, fmt.Errorf("note the lost hamlets to tell: %w", err)
		}
		if err := t.noteCarried(ch.Lost, pushedBefore); err != nil {
			return ch, fmt.Errorf("note the households moved out of the lost hamlets: %w", err)
		}
		if err := t.forgetFilled(ch.Lost); err != nil {
			return ch, fmt.Errorf("forget the lost hamlets' back-fill not told yet: %w", err)
		}
	}
	bf, _, err := r.metaList(ctx, t.tx, metaBackfillScopes)
	if err != nil {
		return ch, err
	}
	// A back-fill under way that loses a hamlet after it stored a part:
	// what it counted so far holds that hamlet's changes (partial, below).
	lostPart := false
	if slices.ContainsFunc(bf, func(h string) bool { return slices.Contains(ch.Lost, h) }) {
		done, err := t.metaInt(metaBackfillDone)
		if err != nil {
			return ch, err
		}
		lostPart = done > 0
	}
	// A replica that never pulled gets every hamlet from its own cursor,
	// or from its clone. A clone under way resumes after the last row it
	// stored, so rows of a gained hamlet that sort before it would never
	// come: it starts again from the first row, the rows it stored
	// replaced by the new snapshot's or dropped at its end (holdSynced;
	// merged with the new snapshot's, a field written twice between the
	// two heads would come based on a version this replica never saw: a
	// conflict no one else has; wide seed 2100). Rows with changes not
	// pushed or refused stay. With no clone under way nothing is listed
	// anew: a replica that has not cloned yet may hold its own pushed
	// rows, which a pull would never bring back. Nor is what this
	// session's decision to clone listed forgotten (holdSynced): cleared
	// with the position, the rows it kept for a refused change were kept
	// for good, the snapshot not bringing them (stop 68,
	// TestCloneDoesNotKeepAStaleRowItWasStillWriting).
	if cursor == 0 && len(ch.Gained) > 0 {
		head, err := t.metaInt("clone_head")
		if err != nil {
			return ch, err
		}
		if head != 0 {
			err = t.holdSynced(true, pushedBefore)
		} else {
			err = t.clearClonePos()
		}
		if err != nil {
			return ch, err
		}
	}
	if cursor > 0 && len(ch.Gained) > 0 {
		// A back-fill under way starts again from the first row: its
		// position says nothing of the rows of a hamlet gained now.
		bf = append(bf, ch.Gained...)
		for _, k := range backfillKeys[1:] {
			if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
				return ch, err
			}
		}
		lostPart = false // its count starts again too
	}
	bf = slices.DeleteFunc(slices.Compact(sortedCopy(bf)), func(h string) bool { return !slices.Contains(scope, h) })
	if lostPart && len(bf) > 0 {
		if err := t.setMeta(metaBackfillPartial, int64(1)); err != nil {
			return ch, err
		}
	}
	if err := t.setMeta(metaBackfillScopes, listJSON(bf)); err != nil {
		return ch, err
	}
	if err := t.setMeta(metaScopeHeld, listJSON(scope)); err != nil {
		return ch, err
	}
	return ch, t.commit()
}

// forgetNoted removes from the list under key the hamlets done.
func (t *txn) forgetNoted(key string, done []string) error {
	if len(done) == 0 {
		return nil
	}
	now, _, err := t.r.metaList(t.ctx, t.tx, key)
	if err != nil {
		return err
	}
	rest := slices.DeleteFunc(now, func(h string) bool { return slices.Contains(done, h) })
	if len(rest) == 0 {
		return t.exec(`DELETE FROM agent_meta WHERE key = ?`, key)
	}
	return t.setMeta(key, listJSON(rest))
}

func sortedCopy(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// dropHamlets removes the rows of hamlets from row_state and the row
// tables, and counts the outbox entries of those hamlets it keeps. A
// household there only by this replica's own moves the server refused or
// has not answered stays: the server holds it in a hamlet of scope
// (heldInScope), and so do the records this replica added there to a
// household it keeps (ownRecordsKept).
func (t *txn) dropHamlets(hamlets, scope []string) (dropped, kept int, err error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	args := make([]any, len(hamlets))
	for i, h := range hamlets {
		args[i] = h
	}
	stay, err := t.heldInScope(hamlets, scope)
	if err != nil {
		return 0, 0, fmt.Errorf("find the households there only by moves refused or not answered: %w", err)
	}
	kids, err := t.ownRecordsKept(hamlets, stay)
	if err != nil {
		return 0, 0, fmt.Errorf("find the records refused there of households kept: %w", err)
	}
	stay = append(stay, kids...)
	// The rows to drop: those of the hamlets, but for stay.
	rowsIn := `SELECT id FROM row_state WHERE scope IN ` + in + ` AND id NOT IN (SELECT value FROM json_each(?))`
	args = append(args, listJSON(stay))
	away, err := t.awayRowsIn(hamlets)
	if err != nil {
		return 0, 0, fmt.Errorf("keep the unpushed writes of dropped rows: %w", err)
	}
	// And the rows with writes of its own the server took, to note them.
	noted, err := t.ownRows(`scope IN `+in, slices.Clone(args[:len(hamlets)])...)
	if err != nil {
		return 0, 0, fmt.Errorf("note the own writes of dropped rows: %w", err)
	}
	away = append(away, noted...)
	slices.SortFunc(away, func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) })
	away = slices.Compact(away)
	away = slices.DeleteFunc(away, func(id syncproto.RowID) bool { return slices.Contains(stay, id.String()) })
	if err := t.keepAway(away); err != nil {
		return 0, 0, fmt.Errorf("keep the unpushed writes of dropped rows: %w", err)
	}
	if err := t.keepPhotosAway(`id IN (`+rowsIn+` AND tbl = 'field_reports')`, args...); err != nil {
		return 0, 0, err
	}
	for table := range t.r.cols {
		if err := t.exec(`DELETE FROM `+table+` WHERE id IN (`+rowsIn+` AND tbl = ?)`, append(slices.Clone(args), table)...); err != nil {
			return 0, 0, err
		}
	}
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM row_state WHERE id IN (`+rowsIn+`)`, args...)
	if err != nil {
		return 0, 0, err
	}
	n, _ := res.RowsAffected()
	k, err := t.r.keptIn(t.ctx, t.tx, hamlets)
	if err != nil {
		return 0, 0, err
	}
	return int(n), k, nil
}

// keptIn counts the outbox entries of hamlets: this replica's edits there
// still pending, or refused and listed in 'rejected' (ScopeChange.KeptEdits).
func (r *Replica) keptIn(ctx context.Context, q querier, hamlets []string) (int, error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	args := make([]any, 0, 2*len(hamlets))
	for range 2 {
		for _, h := range hamlets {
			args = append(args, h)
		}
	}
	var k int
	err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox WHERE scope IN `+in+`) + (SELECT coalesce(sum(n), 0) FROM outbox_rows WHERE scope IN `+in+`)`, args...).Scan(&k)
	return k, err
}

// heldInScope lists the households of hamlets (about to be dropped) that
// are there only by this replica's own moves, refused by the server or not
// answered yet: the last such move, back through any such move that one
// overwrote, was made from a hamlet of scope, which the server still holds
// the household in. A laptop offline moved a household to a hamlet its team had lost
// meanwhile; dropped with that hamlet, the household was gone from the
// laptop though its team still covers it, and when the laptop had added it
// offline it came back as its first hamlet_code alone (the server sends a
// new row's first hamlet to its author too), with none of its own fields:
// its pulls leave them out (issue 17, wide seeds 684 and 752). It stays,
// like any row with a refused change, where its volunteer put it beside
// the refusal; discarding the refusal puts it back (DiscardRejected). A
// move not answered yet is refused at the next push (made after the
// loss), and stays the same way.
func (t *txn) heldInScope(hamlets, scope []string) ([]string, error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	args := []any{outboxRejected, outboxPending, outboxUnacked, schema.ScopeField}
	for _, h := range hamlets {
		args = append(args, h)
	}
	// A refused move sent again is pending, not refused, between the
	// press and its answer: a sync that drops hamlets meanwhile (the
	// volunteer pressed during it) dropped the household, and the pull
	// brought back its first hamlet_code alone (simulation, fixing world,
	// seed 5058825). Rescope runs after the push has had every Ack, so
	// such a move was written during the session, after the loss: the
	// server refuses it, and if it took it (the hamlet given back
	// meanwhile), its eviction from the household's hamlet follows.
	rows, err := t.tx.QueryContext(t.ctx, `SELECT o.row_id, o.seq FROM outbox o JOIN row_state s ON s.id = o.row_id
		WHERE o.state IN (?, ?, ?) AND o.field = ? AND s.tbl = 'households' AND s.scope IN `+in+` ORDER BY o.row_id`, args...)
	if err != nil {
		return nil, err
	}
	refused := map[string][]uint64{} // row → its refused or unanswered moves' sequences
	var ids []string
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		if refused[id] == nil {
			ids = append(ids, id)
		}
		refused[id] = append(refused[id], uint64(seq))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var stay []string
	for _, id := range ids {
		rid, err := uuid.Parse(id)
		if err != nil {
			return nil, &FileError{Path: t.r.path, Kind: ErrCorrupt, Err: fmt.Errorf("outbox row id %q: %w", id, err)}
		}
		st, err := t.get(rid)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		v := st.cur[schema.ScopeField]
		for v != nil && v.Dot.Replica == t.r.id && slices.Contains(refused[id], v.Dot.Seq) {
			v = st.overwritten(schema.ScopeField, v.Base)
		}
		if v != nil && v.Value.Kind() == syncproto.KindString && slices.Contains(scope, v.Value.AsString()) {
			stay = append(stay, id)
		}
	}
	return stay, nil
}

// ownRecordsKept lists the records of households (visits, tutoring,
// reports) in hamlets about to be dropped that the server never took, that
// hold a change of this replica refused or not answered, and whose
// household this replica still holds: kept (stay, heldInScope) or in a
// hamlet not dropped. A record's
// hamlet here is its household's when it was made: a visit logged after a
// move the server refused (or before the volunteer moved the household
// back) is in the hamlet of that move, and refused with it. Dropped with
// the hamlet, the volunteer's record was gone from the laptop while its
// refusal still listed it (review 37c, review 38); it stays beside its
// refusal, and goes again in its household's hamlet when the volunteer
// discards or sends again the move (rehomeRefusedChildren).
func (t *txn) ownRecordsKept(hamlets, stay []string) ([]string, error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	var out []string
	for _, tb := range householdRecordTables() {
		args := []any{outboxRejected, outboxPending, outboxUnacked, listJSON(stay)}
		for range 2 {
			for _, h := range hamlets {
				args = append(args, h)
			}
		}
		ids, err := t.queryRowIDs(tb, `SELECT c.id FROM `+tb+` c JOIN row_state h ON h.id = c.`+householdField+` AND h.tbl = 'households'
			JOIN row_state r ON r.id = c.id
			WHERE c.id IN (SELECT row_id FROM outbox WHERE state IN (?, ?, ?))
			AND (h.id IN (SELECT value FROM json_each(?)) OR h.scope NOT IN `+in+`) AND r.scope IN `+in, args...)
		if err != nil {
			return nil, err
		}
		// Only a record the server never took: one it took is held there in
		// the dropped hamlet (a report of a place there naming a household
		// of another), and kept here it stayed outside scope for good once
		// its refused edit was dropped (review 38b).
		for _, id := range ids {
			st, err := t.get(id)
			if err != nil {
				return nil, err
			}
			if st == nil {
				continue
			}
			if taken, err := t.holdsTaken(st); err != nil {
				return nil, err
			} else if !taken {
				out = append(out, id.String())
			}
		}
	}
	return out, nil
}

// backfill brings the hamlets noted for back-fill (rescope) by a scoped
// snapshot, and then forgets them; from a server too old to offer
// snapshots, by their log (backfillLog).
func (s *syncRun) backfill(ctx context.Context) (n int, err error) {
	r := s.r
	scopes, _, err := r.metaList(ctx, r.db, metaBackfillScopes)
	if err != nil || len(scopes) == 0 {
		return 0, err
	}
	if old, err := r.metaInt(ctx, r.db, "snapshot_unsupported"); err != nil {
		return 0, err
	} else if old != 0 {
		return s.backfillLog(ctx, scopes)
	}
	st, err := r.loadBackfill(ctx)
	if err != nil {
		return 0, err
	}
	// The chunks a link that drops connections carries, as for a clone
	// (clonelimit.go): default chunks cut every time left the gained
	// hamlets out for good.
	if err := s.limit.load(ctx, r, s.opts.SnapshotLimit); err != nil {
		return 0, err
	}
	defer func() { s.limit.done(ctx, r, err, n > 0) }()
	n, err = s.backfillFrom(ctx, scopes, st)
	var se *ServerError
	if err == nil || !errors.As(err, &se) || se.Code != syncproto.CodeBadCursor {
		return n, err
	}
	if head := cmp.Or(st.head, s.cursor); head <= s.wel.Cursor {
		// The gained hamlets' log was collected above the back-fill's
		// head (the pull cursor, or the head it began at): the pull after
		// it would start below their floor. Clone again, the whole scope.
		return n, r.recloneDue(ctx, "the gained hamlets' log was collected above this replica's cursor")
	}
	if st.head != 0 {
		// The server cannot resume it (restored from a backup): start
		// again from the first row; the rows stored so far merge.
		if err := r.clearBackfillPos(ctx); err != nil {
			return n, err
		}
		m, err := s.backfillFrom(ctx, scopes, cloneState{})
		return n + m, err
	}
	return n, err
}

// loadBackfill reads a snapshot back-fill's position (head 0: none yet).
func (r *Replica) loadBackfill(ctx context.Context) (cloneState, error) {
	var c cloneState
	h, err := r.metaInt(ctx, r.db, metaBackfillHead)
	if err != nil || h == 0 {
		return c, err
	}
	c.head = uint64(h)
	if c.pos.Table, err = r.meta(ctx, r.db, metaBackfillTable); err != nil {
		return c, err
	}
	row, err := r.meta(ctx, r.db, metaBackfillRow)
	if err != nil || row == "" {
		return c, err
	}
	if c.pos.Row, err = uuid.Parse(row); err != nil {
		return c, &FileError{Path: r.path, Kind: ErrCorrupt, Err: fmt.Errorf("back-fill position: %w", err)}
	}
	return c, nil
}

func (r *Replica) clearBackfillPos(ctx context.Context) error {
	_, err := r.writer().ExecContext(ctx, `DELETE FROM agent_meta WHERE key IN (?, ?, ?, ?, ?)`, metaBackfillHead, metaBackfillTable, metaBackfillRow, metaBackfillDone, metaBackfillPartial)
	return err
}

// backfillFrom asks for the scoped snapshot chunk by chunk from st's
// position and stores each chunk with the position after it, merging
// with what the replica holds (cloneTxn) as a clone does; the last chunk
// ends the back-fill. It returns the field versions received.
func (s *syncRun) backfillFrom(ctx context.Context, scopes []string, st cloneState) (int, error) {
	r := s.r
	n := 0
	if st.head == 0 {
		// The snapshot's head is the cursor the pull after it continues
		// from, which the back-fill does not move: the server leaves out
		// of its chunks each field version that pull brings, and the pull
		// replays that field's history in order. At the server's head the
		// chunks held a field written three times since this cursor at its
		// third write, and the pull replayed the first against it: a
		// conflict between writes that never competed. (A server before
		// this takes the Head as given and sends every current version.)
		st.head = s.cursor
	}
	for {
		if err := s.w.send(&syncproto.SnapshotRequest{Head: st.head, After: st.pos, Limit: s.limit.ask(), Scopes: scopes}); err != nil {
			return n, err
		}
		var m *syncproto.SnapshotChunk
		for m == nil {
			msg, err := s.w.recv(ctx)
			if err != nil {
				return n, err
			}
			switch msg := msg.(type) {
			case *syncproto.Notify:
				s.notified = true
			case *syncproto.SnapshotChunk:
				if msg.From != st.pos || (st.head != 0 && msg.Head != st.head) || msg.Head == 0 && msg.More {
					return n, syncproto.Errorf(syncproto.CodeUnexpected, "back-fill chunk from %s/%s at head %d, expected %s/%s at head %d",
						msg.From.Table, msg.From.Row, msg.Head, st.pos.Table, st.pos.Row, st.head)
				}
				m = msg
			default:
				return n, syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while back-filling", msg.Type())
			}
		}
		s.sum.RoundTrips++
		if err := s.storeBackfill(ctx, scopes, m); err != nil {
			return n, err
		}
		st.head, st.pos = m.Head, m.To
		n += len(m.Rows)
		if s.opts.Progress != nil {
			s.opts.Progress(Progress{Phase: "backfill", Done: n, Total: int(max(m.Total, uint64(n)))})
		}
		if !m.More {
			return n, r.checkpoint(ctx)
		}
		s.limit.received() // the chunks' limit, a clone's (backfill), not the log's pages'
	}
}

// storeBackfill stores one chunk of a scoped snapshot of the hamlets
// scopes with the position after it, or, after the last, forgets the
// back-fill and notes it to be told (noteFilled); its deleted rows get
// tombstone bounds as a clone's do (noteClonedTombs: the pull after it
// reads the log past them). The normal cursor does not move.
func (s *syncRun) storeBackfill(ctx context.Context, scopes []string, m *syncproto.SnapshotChunk) error {
	r := s.r
	t, err := r.beginPulled(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	g, err := newCloneTxn(r, t)
	if err != nil {
		return err
	}
	if _, err := g.add(m); err != nil {
		return err
	}
	if err := t.saveMany(g.save); err != nil {
		return err
	}
	done, err := t.metaInt(metaBackfillDone)
	if err != nil {
		return err
	}
	done += int64(len(m.Rows))
	if m.More {
		for k, v := range map[string]any{metaBackfillHead: int64(m.Head), metaBackfillTable: m.To.Table, metaBackfillRow: m.To.Row.String(), metaBackfillDone: done} {
			if err := t.setMeta(k, v); err != nil {
				return err
			}
		}
	} else {
		partial, err := t.metaInt(metaBackfillPartial)
		if err != nil {
			return err
		}
		for _, k := range backfillKeys {
			if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
				return err
			}
		}
		if err := t.setMeta(metaCloneTombs, int64(1)); err != nil {
			return err
		}
		if err := t.noteFilled(scopes, done, partial != 0); err != nil {
			return err
		}
	}
	if g.maxHLC != 0 {
		_ = r.clk().Observe(g.maxHLC) // beyond the skew bound: stored, our clock stays put
	}
	if err := t.setMeta("clock_last", int64(r.clk().Last())); err != nil {
		return err
	}
	if err := t.commit(); err != nil {
		return err
	}
	s.sum.Conflicts += g.conflicts
	return nil
}

// backfillLog pulls the hamlets noted for back-fill from their log, from
// the back-fill cursor to the head (Pull.Scopes), and then forgets them:
// for a server too old to offer snapshots.
func (s *syncRun) backfillLog(ctx context.Context, scopes []string) (n int, err error) {
	r := s.r
	c, err := r.metaInt(ctx, r.db, metaBackfillCursor)
	if err != nil {
		return 0, err
	}
	// done counts the changes it brought over every sync it took, as a
	// snapshot's back-fill does (metaBackfillDone): the sync that ends it
	// tells the hamlets and that count (ScopeChange.Filled), though one
	// cut before gained them. Without it the volunteer read "Tổ được giao
	// thêm ấp/khóm : đã tải 300 thay đổi", no hamlet named.
	done, err := r.metaInt(ctx, r.db, metaBackfillDone)
	if err != nil {
		return 0, err
	}
	cursor := uint64(c)
	// Pages a link that drops connections carries, as for a pull
	// (clonelimit.go).
	if err := s.pullLimit.load(ctx, r, s.opts.PullLimit); err != nil {
		return 0, err
	}
	defer func() { s.pullLimit.done(ctx, r, err, cursor != uint64(c)) }()
	for {
		if err := s.w.send(&syncproto.Pull{Cursor: cursor, Limit: s.pullLimit.ask(), Scopes: scopes}); err != nil {
			return n, err
		}
		var m *syncproto.Changes
		for m == nil {
			msg, err := s.w.recv(ctx)
			var se *ServerError
			if errors.As(err, &se) && se.Code == syncproto.CodeBadCursor {
				// The server truncated those hamlets' log: a back-fill
				// cannot be complete. Clone again (the whole scope, by
				// snapshot) on the next session, which starts at once.
				return n, r.recloneDue(ctx, "the gained hamlets' log was truncated")
			}
			if err != nil {
				return n, err
			}
			switch msg := msg.(type) {
			case *syncproto.Notify:
				s.notified = true
			case *syncproto.Changes:
				if msg.From != cursor {
					return n, syncproto.Errorf(syncproto.CodeUnexpected, "back-fill changes from %d, expected %d", msg.From, cursor)
				}
				m = msg
			default:
				return n, syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while back-filling", msg.Type())
			}
		}
		s.sum.RoundTrips++
		g, err := r.beginPull(ctx)
		if err != nil {
			return n, err
		}
		g.own = true // a hamlet held before may bring back our own writes
		if err := g.apply(m); err != nil {
			g.rollback()
			return n, err
		}
		done += int64(len(m.Changes))
		if !m.More {
			// Done: forget the back-fill with its last page.
			if err := g.t.setMeta(metaBackfillScopes, listJSON(nil)); err != nil {
				g.rollback()
				return n, err
			}
			partial, err := g.t.metaInt(metaBackfillPartial)
			if err != nil {
				g.rollback()
				return n, err
			}
			if err := g.t.exec(`DELETE FROM agent_meta WHERE key IN (?, ?)`, metaBackfillDone, metaBackfillPartial); err != nil {
				g.rollback()
				return n, err
			}
			if err := g.t.noteFilled(scopes, done, partial != 0); err != nil {
				g.rollback()
				return n, err
			}
		} else if err := g.t.setMeta(metaBackfillDone, done); err != nil {
			g.rollback()
			return n, err
		}
		if err := g.commitKey(metaBackfillCursor, m.To); err != nil {
			g.rollback()
			return n, err
		}
		cursor = m.To
		n += len(m.Changes)
		s.sum.Evicted += g.stats.evicted
		s.sum.Conflicts += g.stats.conflicts
		if s.opts.Progress != nil {
			s.opts.Progress(Progress{Phase: "backfill", Done: n}) // the total is unknown
		}
		if !m.More {
			return n, r.checkpoint(ctx)
		}
		s.pullLimit.received()
	}
}

// rescope is the session's part: rescope, then back-fill, and report.
func (s *syncRun) rescope(ctx context.Context, scope []string) error {
	ch, err := s.r.rescope(ctx, scope, s.cursor, s.wel.PushedSeq)
	if err != nil {
		return err
	}
	if s.cursor == 0 {
		// Never pulled (or cloning again): the clone, or the log replay
		// from 0, brings every hamlet of the scope; no hamlet is gained by
		// a back-fill.
		ch.Gained = nil
	}
	// A back-fill that ends here, cut in earlier syncs or not, is noted
	// with its last part (noteFilled) and told by tellFilled, at the end
	// of this session or of the next that ends well: its hamlets and all
	// it brought (the volunteer read "gained hamlet(s) : fetched 2500
	// changes", the last part alone under no name).
	if ch.Backfilled, err = s.backfill(ctx); err != nil {
		return err
	}
	s.sum.Pulled += ch.Backfilled
	if !ch.empty() {
		s.sum.ScopeChange = &ch
	}
	return nil
}

// metaFillUntold holds the back-fills that ended (untoldFill) until a
// session that ends well tells them: one cut after the back-fill's last
// chunk (the pull after it, on a link that drops every few kilobytes)
// returned an error, and the next sync, with nothing left to fetch, said
// nothing of the hamlets gained. A back-fill that ends before an earlier
// one is told joins it (noteFilled: written over, the earlier hamlets were
// never told); a hamlet lost before the tell leaves it (forgetFilled: it
// was told as gained and lost in one sync).
const metaFillUntold = "backfill_untold"

type untoldFill struct {
	Hamlets []string `json:"hamlets"`
	Total   int      `json:"total"`
	// Partial: some of its hamlets were lost since; Total counts theirs
	// too, so it is not told.
	Partial bool `json:"partial,omitempty"`
}

func (t *txn) untold() (untoldFill, error) {
	return metaJSON[untoldFill](t.ctx, t.r, t.tx, metaFillUntold)
}

func (t *txn) setUntold(f untoldFill) error {
	if len(f.Hamlets) == 0 {
		return t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaFillUntold)
	}
	return t.setMetaJSON(metaFillUntold, f)
}

// noteFilled notes a back-fill of hamlets that ended, having brought total
// field versions, to be told (tellFilled), with any ended before it and
// not told yet; in the transaction that stores its last part, so no
// back-fill ends untold. partial: total counts the changes of hamlets it
// lost on the way (metaBackfillPartial), told without a count.
func (t *txn) noteFilled(hamlets []string, total int64, partial bool) error {
	f, err := t.untold()
	if err != nil {
		return err
	}
	f.Hamlets = slices.Compact(sortedCopy(append(f.Hamlets, hamlets...)))
	f.Total += int(total)
	f.Partial = f.Partial || partial
	return t.setUntold(f)
}

// forgetFilled takes the hamlets lost out of the back-fills not told yet:
// the team no longer covers them, and the sync that drops them tells that.
func (t *txn) forgetFilled(lost []string) error {
	f, err := t.untold()
	if err != nil || len(f.Hamlets) == 0 {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(f.Hamlets), func(h string) bool { return slices.Contains(lost, h) })
	if len(kept) == len(f.Hamlets) {
		return nil
	}
	f.Hamlets, f.Partial = kept, true
	return t.setUntold(f)
}

// tellFilled is a session's last phase: the back-fills that ended in this
// session or in ones cut since go into the summary (ScopeChange.Filled),
// with all they brought, but for one that lost a hamlet since. The note
// is forgotten by the sync that ends well (SyncSummary.told).
func (s *syncRun) tellFilled(ctx context.Context) error {
	raw, err := s.r.meta(ctx, s.r.db, metaFillUntold)
	if err != nil || raw == "" {
		return err
	}
	var f untoldFill
	if json.Unmarshal([]byte(raw), &f) == nil && len(f.Hamlets) > 0 {
		if s.sum.ScopeChange == nil {
			s.sum.ScopeChange = &ScopeChange{}
		}
		ch := s.sum.ScopeChange
		ch.Filled, ch.FilledTotal, ch.FilledPart = f.Hamlets, f.Total, f.Partial
		if f.Partial {
			ch.FilledTotal = 0
		}
	}
	// Forgotten once the summary reaches the volunteer (recordSync), not
	// here: a sync that fails after this prints its error alone.
	s.sum.told = append(s.sum.told, toldNote{metaFillUntold, raw})
	return nil
}

// metaLostUntold holds the hamlets the team lost (untoldLoss), whose rows
// a rescope dropped, until a session that ends well tells them (tellLost):
// the rows leave the laptop in the rescope's transaction, and a session cut
// after it (the pull after, on a link that drops) returned its summary
// with its error, which no one prints; the next sync, which found the
// scope already held, said nothing of the households gone from the
// laptop. Hamlets lost before an earlier loss is told join it (noteLost);
// a hamlet gained again before the tell leaves it (forgetLost): the team
// covers it.
const metaLostUntold = "scope_lost_untold"

type untoldLoss struct {
	Hamlets []string `json:"hamlets"`
	Dropped int      `json:"dropped"`
	// Partial: some of its hamlets were gained again since; Dropped
	// counts their rows too, so it is not told.
	Partial bool `json:"partial,omitempty"`
}

func (t *txn) untoldLoss() (untoldLoss, error) {
	return metaJSON[untoldLoss](t.ctx, t.r, t.tx, metaLostUntold)
}

func (t *txn) setUntoldLoss(l untoldLoss) error {
	if len(l.Hamlets) == 0 {
		return t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaLostUntold)
	}
	return t.setMetaJSON(metaLostUntold, l)
}

// noteLost notes hamlets lost, whose dropped rows the rescope removed, to
// be told (tellLost), with any lost before and not told yet; in the
// transaction that drops them, so no loss goes untold.
func (t *txn) noteLost(hamlets []string, dropped int) error {
	l, err := t.untoldLoss()
	if err != nil {
		return err
	}
	l.Hamlets = slices.Compact(sortedCopy(append(l.Hamlets, hamlets...)))
	l.Dropped += dropped
	return t.setUntoldLoss(l)
}

// forgetLost takes the hamlets gained out of the losses not told yet.
func (t *txn) forgetLost(gained []string) error {
	if len(gained) == 0 {
		return nil
	}
	l, err := t.untoldLoss()
	if err != nil || len(l.Hamlets) == 0 {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(l.Hamlets), func(h string) bool { return slices.Contains(gained, h) })
	if len(kept) == len(l.Hamlets) {
		return nil
	}
	l.Hamlets, l.Partial = kept, true
	return t.setUntoldLoss(l)
}

// tellLost is a session's phase: the hamlets lost in this session or in
// ones cut since go into the summary (ScopeChange.Lost), with the rows
// dropped and the edits there kept now. The note is forgotten once the
// summary reaches the volunteer (SyncSummary.told).
func (s *syncRun) tellLost(ctx context.Context) error {
	raw, err := s.r.meta(ctx, s.r.db, metaLostUntold)
	if err != nil || raw == "" {
		return err
	}
	var l untoldLoss
	if json.Unmarshal([]byte(raw), &l) == nil && len(l.Hamlets) > 0 {
		kept, err := s.r.keptIn(ctx, s.r.db, l.Hamlets)
		if err != nil {
			return fmt.Errorf("count the edits kept of the hamlets lost: %w", err)
		}
		if s.sum.ScopeChange == nil {
			s.sum.ScopeChange = &ScopeChange{}
		}
		ch := s.sum.ScopeChange
		ch.Lost, ch.Dropped, ch.KeptEdits, ch.LostPart = l.Hamlets, l.Dropped, kept, l.Partial
		if l.Partial {
			ch.Dropped = 0
		}
	}
	s.sum.told = append(s.sum.told, toldNote{metaLostUntold, raw})
	return nil
}

// metaCarried is the versions, by row and field, that this replica kept
// while the server's may be several writes ahead through writes it never
// saw: the rescope which dropped a hamlet found them on the rows kept only
// because its own move had carried them out of that hamlet (noteCarried),
// a clone's Ack on the rows it took off clone_drop (applyAck), and a
// clone's listing on the synced rows it keeps for their refused changes
// (holdSynced); the first complete pull after it forgets them (afterPull).
const metaCarried = "carried_rows"

// noteCarried notes the current versions of the households this replica
// holds in a hamlet it keeps by its own move out of one of lost, and of
// their child rows: those the server had taken before this session (ones
// it pulled; its own up to pushedBefore, Welcome.PushedSeq, not refused).
// It lost that hamlet before pulling its log to the end, and kept those
// rows with the versions it had pulled, which may be several writes
// behind. The server's move logs a row's current versions again where it
// moved it, each with its own base only, which may be a write this
// replica never saw (carriedOut). Read at a rescope that drops hamlets:
// the kept households are decoded once, in chunks.
func (t *txn) noteCarried(lost []string, pushedBefore uint64) error {
	own, err := t.ownIDs()
	if err != nil {
		return err
	}
	in := "(?" + strings.Repeat(", ?", len(lost)-1) + ")"
	args := make([]any, len(lost))
	for i, h := range lost {
		args[i] = h
	}
	ids, err := t.rowIDs(`SELECT id FROM row_state WHERE tbl = 'households' AND scope NOT IN `+in, args...)
	if err != nil {
		return err
	}
	var carried []syncproto.RowID
	for i := 0; i < len(ids); i += saveChunk {
		got, err := t.getMany(ids[i:min(i+saveChunk, len(ids))])
		if err != nil {
			return err
		}
		for _, id := range ids[i:min(i+saveChunk, len(ids))] {
			if st := got[id]; st != nil && movedOutOf(st, lost, own) {
				carried = append(carried, id)
			}
		}
	}
	if len(carried) == 0 {
		return nil
	}
	rows := slices.Clone(carried)
	for _, table := range slices.Sorted(maps.Keys(t.r.cols)) {
		if table == "households" || !slices.Contains(t.r.cols[table], "household_id") {
			continue
		}
		kids, err := t.rowIDs(`SELECT id FROM `+table+` WHERE household_id IN (SELECT value FROM json_each(?))`, jsonIDs(carried))
		if err != nil {
			return err
		}
		rows = append(rows, kids...)
	}
	return t.noteTaken(rows, pushedBefore)
}

// noteTaken adds to metaCarried the current versions of rows that the
// server had taken before what is pulled next: pulled, or this replica's
// own up to pushedBefore (Welcome.PushedSeq; for a clone, what the server
// had acknowledged when it listed its rows, metaCloneOwnSeq) and not
// refused or awaiting a result. Their fields may be several writes behind
// the server's, through writes this replica never saw, and the next
// complete pull brings those later writes (carriedOut). Nothing to note
// writes nothing.
//
// They go in a part of their own (metaCarried/N, after the parts before):
// a clone's Acks note the rows they take off its list, one batch each,
// and rewriting every version noted so far at each of them grew as the
// square of a push's rows (20,000 households corrected during a cut
// re-clone: its push took 10.5 s, 2.1 s without the notes).
func (t *txn) noteTaken(rows []syncproto.RowID, pushedBefore uint64) error {
	noted := map[string]string{}
	for i := 0; i < len(rows); i += saveChunk {
		part := rows[i:min(i+saveChunk, len(rows))]
		got, err := t.getMany(part)
		if err != nil {
			return err
		}
		for _, id := range part {
			st := got[id]
			if st == nil {
				continue
			}
			waiting, err := t.unsettledSeqs(id)
			if err != nil {
				return err
			}
			for f, v := range st.cur {
				if v.Dot.Replica == t.r.id && (v.Dot.Seq > pushedBefore || waiting.holds(v.Dot.Seq)) {
					continue // the server judges it in this session, or refused it
				}
				noted[carriedKey(id, f)] = dotText(v.Dot)
			}
		}
	}
	if len(noted) == 0 {
		return nil
	}
	b, err := json.Marshal(noted)
	if err != nil {
		return err
	}
	var parts int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM agent_meta WHERE key > ? AND key < ?`, carriedPartsFrom, carriedPartsTo).Scan(&parts); err != nil {
		return err
	}
	return t.setMeta(fmt.Sprintf("%s%09d", carriedPartsFrom, parts), string(b))
}

// The parts of metaCarried after its first (noteTaken) are the keys
// between these two, in the order written.
const (
	carriedPartsFrom = metaCarried + "/"
	carriedPartsTo   = metaCarried + "0" // '0' follows '/'
)

func carriedKey(id syncproto.RowID, field string) string { return id.String() + "/" + field }

func dotText(d syncproto.Dot) string { return d.Replica.String() + "/" + strconv.FormatUint(d.Seq, 10) }

// carriedVersions reads metaCarried, as an agent before its parts wrote
// it and each part after, a later note of a field over an earlier one
// (empty: none noted).
func (r *Replica) carriedVersions(ctx context.Context, q querier) (map[string]string, error) {
	out := map[string]string{}
	rows, err := q.QueryContext(ctx, `SELECT value FROM agent_meta WHERE key = ? OR key > ? AND key < ? ORDER BY key`, metaCarried, carriedPartsFrom, carriedPartsTo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		part := map[string]string{}
		if err := json.Unmarshal([]byte(s), &part); err != nil {
			return nil, &FileError{Path: r.path, Kind: ErrCorrupt, Err: fmt.Errorf("%s: %w", metaCarried, err)}
		}
		maps.Copy(out, part)
	}
	return out, rows.Err()
}

// movedOutOf says whether one of this replica's writes of a row's
// hamlet_code (holding or not) overwrote a value in one of hamlets.
func movedOutOf(st *rowState, hamlets []string, own []syncproto.ReplicaID) bool {
	left := func(v *syncproto.Version) bool {
		if !slices.Contains(own, v.Dot.Replica) {
			return false
		}
		b := st.overwritten(schema.ScopeField, v.Base)
		return b != nil && b.Value.Kind() == syncproto.KindString && slices.Contains(hamlets, b.Value.AsString())
	}
	if v := st.cur[schema.ScopeField]; v != nil && left(v) {
		return true
	}
	for i := range st.hist {
		if h := &st.hist[i]; h.Field == schema.ScopeField && left(&h.Ver) {
			return true
		}
	}
	return false
}

// ownIDs is this file's replica id and the ids it wrote under before a
// fork.
func (t *txn) ownIDs() ([]syncproto.ReplicaID, error) {
	former, err := t.r.formerIDs(t.ctx, t.tx)
	if err != nil {
		return nil, err
	}
	own := []syncproto.ReplicaID{t.r.id}
	for _, f := range former {
		if id, err := uuid.Parse(f); err == nil {
			own = append(own, id)
		}
	}
	return own, nil
}

// carriedOut says whether a pulled write that would win against a row's
// current version cur as a concurrent one only overwrites a version noted
// at the loss of a hamlet the row was carried out of (noteCarried), or
// when a clone kept the row (applyAck, holdSynced): one the server had taken,
// possibly several writes behind what it sends. The
// write is based on one this replica never saw; taken for a concurrent
// write, the old version was listed as a conflict no one had (issue 17,
// wide and silent seed 1403595), and when it was its own, as a loss of its
// own to restore over two later corrections. It is taken as written over
// it. Only those versions, and only until the first complete pull after
// the loss: a write over anything else, or later, is judged as ever (its
// own written while away, or two teammates' competing writes, are real
// conflicts: review 34).
func (g *pullTxn) carriedOut(st *rowState, c *syncproto.Change, cur *syncproto.Version) (bool, error) {
	if g.carried == nil {
		var err error
		if g.carried, err = g.r.carriedVersions(g.t.ctx, g.t.tx); err != nil {
			return false, err
		}
	}
	if len(g.carried) == 0 || g.carried[carriedKey(st.id, c.Field)] != dotText(cur.Dot) {
		return false, nil
	}
	// Written over a version this replica held and replaced itself on the
	// way to cur (her own correction over it, or a pulled one), over the
	// version cur was written over, or over none (the writer held no
	// value of the field): the writer never saw cur, and cur is not behind
	// the write but beside it. A real conflict, as the server and the
	// teammate record it (the known limit of §15 needs a base this replica
	// never saw). The last two a clone or a rescope leaves no history to
	// find: a volunteer's edit the server took lost to a teammate's first
	// entry of the field, and her laptop, which kept the household for her
	// changes through a clone or carried it out of a hamlet her team lost,
	// took it for a write made over hers (simulation seeds 7407104 and
	// 7408335 of the truncating worlds).
	// So too over a write this replica recorded as lost (held in the
	// history as a loser): a write that lost never was the field's value
	// on the server, and one written over it never saw cur (two copies of
	// a data folder, each forked, push the same unsent correction again:
	// the second's loses to the first's later one, and the second's next
	// correction, made over its own, beats that; simulation seed 7740650).
	// So too over this replica's own write, which it held whether or not
	// its history still has it: a snapshot that replaced the row after an
	// Ack noted it, or a compaction, leaves none (her first entry of a
	// head, then corrections, the last taken and noted; a teammate's
	// correction over her first entry beat it, and her laptop took it for
	// a write made over hers: simulation seed 7765785).
	return !c.Base.IsZero() && c.Base != cur.Base && c.Base.Replica != g.r.id && !st.held(c.Field, c.Base), nil
}

package agent

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Conflict is a value that lost to a concurrent write: both values, who
// wrote each (origin replica; "mine" when it was this laptop) and when.
type Conflict struct {
	ID         int64      `json:"id"`
	Table      string     `json:"table"`
	Row        string     `json:"row_id"`
	Field      string     `json:"field"`
	Hamlet     string     `json:"hamlet_code"`
	Loser      Side       `json:"loser"`
	Winner     Side       `json:"winner"`
	DetectedAt time.Time  `json:"detected_at"`
	RestoredAt *time.Time `json:"restored_at,omitempty"`
}

// Side is one value of a conflict. HLC and Seq are 64-bit: --json prints
// them as strings, since JavaScript rounds numbers beyond 2^53.
type Side struct {
	Value  any       `json:"value"`
	At     time.Time `json:"at"`
	HLC    uint64    `json:"hlc,string"`
	Origin string    `json:"origin"`
	Seq    uint64    `json:"seq,string"`
	Mine   bool      `json:"mine"`
}

// recordConflict stores a conflict once (the same loser arriving twice is
// one conflict). It reports whether it was new.
//
// Never one whose loser is a change of this replica the server refused:
// the rejected list holds it, with the server's reason, and that is where
// the volunteer fixes or discards it. It never reached the server, which
// logged no conflict, and no other replica has it. Listed as lost too,
// the volunteer saw the same edit twice, and the conflict offered to
// write it again (a move into a hamlet the team has lost, refused again)
// and outlived its discard (seed 8400022 of the wide world: a copy's
// report status, refused read_only, listed as lost to the same value
// pushed by the other copy, when the clone met the winner). One recorded
// while the change still awaited its answer goes with the refusal
// (applyAck).
func (t *txn) recordConflict(c syncproto.Conflict, now int64) (bool, error) {
	if c.Loser.Dot.Replica == t.r.id {
		var refused bool
		// In the outbox alone: a refusal expands a compact entry into
		// outbox rows first (outbox_rows.go).
		if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE seq = ? AND state = ?)`,
			int64(c.Loser.Dot.Seq), outboxRejected).Scan(&refused); err != nil {
			return false, fmt.Errorf("look whether the server refused a losing write: %w", err)
		}
		if refused {
			return false, nil
		}
	}
	s, err := t.stmt(`INSERT INTO conflicts (tbl, row_id, field, scope,
		loser_kind, loser_value, loser_hlc, loser_replica, loser_seq,
		winner_kind, winner_value, winner_hlc, winner_replica, winner_seq, detected_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (row_id, field, loser_replica, loser_seq) DO NOTHING`)
	if err != nil {
		return false, err
	}
	lk, lv := valueArgs(c.Loser.Value)
	wk, wv := valueArgs(c.Winner.Value)
	res, err := s.ExecContext(t.ctx, c.Key.Table, c.Key.Row.String(), c.Key.Field, c.Scope,
		lk, lv, int64(c.Loser.HLC), c.Loser.Dot.Replica[:], int64(c.Loser.Dot.Seq),
		wk, wv, int64(c.Winner.HLC), c.Winner.Dot.Replica[:], int64(c.Winner.Dot.Seq), now)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Conflicts lists the conflicts not yet restored (all with all=true),
// newest first.
func (r *Replica) Conflicts(ctx context.Context, all bool) ([]Conflict, error) {
	q := `SELECT id, tbl, row_id, field, scope, loser_kind, loser_value, loser_hlc, loser_replica, loser_seq,
		winner_kind, winner_value, winner_hlc, winner_replica, winner_seq, detected_at, restored_at FROM conflicts`
	if !all {
		q += ` WHERE restored_at IS NULL`
	}
	rows, err := r.db.QueryContext(ctx, q+` ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		c, err := r.scanConflict(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func (r *Replica) scanConflict(sc scanner) (Conflict, error) {
	var c Conflict
	var lk, wk, lh, wh, ls, ws, det int64
	var lv, wv any
	var lr, wr []byte
	var restored sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Table, &c.Row, &c.Field, &c.Hamlet, &lk, &lv, &lh, &lr, &ls, &wk, &wv, &wh, &wr, &ws, &det, &restored); err != nil {
		return c, err
	}
	side := func(k int64, v any, h int64, rep []byte, seq int64) Side {
		d := dotFrom(rep, seq)
		return Side{Value: valueFrom(k, v).Any(), At: syncproto.HLC(h).Time(), HLC: uint64(h), Origin: d.Replica.String(), Seq: d.Seq, Mine: r.mine(d.Replica)}
	}
	c.Loser = side(lk, lv, lh, lr, ls)
	c.Winner = side(wk, wv, wh, wr, ws)
	c.DetectedAt = time.UnixMilli(det)
	if restored.Valid {
		t := time.UnixMilli(restored.Int64)
		c.RestoredAt = &t
	}
	return c, nil
}

// RestoreConflict makes the losing value of a conflict the field's value
// again: a new local write, based on the current value, that syncs like any
// other. The conflict is marked restored. A delete's conflict on a row
// that lacks a field every such record needs is not restored
// (RestoreIncompleteError), as Restore.
func (r *Replica) RestoreConflict(ctx context.Context, id int64) (Conflict, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return Conflict{}, err
	}
	defer t.rollback()
	c, err := r.scanConflict(t.tx.QueryRowContext(ctx, `SELECT id, tbl, row_id, field, scope, loser_kind, loser_value, loser_hlc, loser_replica, loser_seq,
		winner_kind, winner_value, winner_hlc, winner_replica, winner_seq, detected_at, restored_at FROM conflicts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, &NotFoundError{Table: "conflicts", ID: itoa(id)}
	}
	if err != nil {
		return c, err
	}
	if c.RestoredAt != nil {
		// Restored already: written again (a second press, a stale page),
		// the old value would go over every edit made since.
		return c, nil
	}
	rowID, err := uuid.Parse(c.Row)
	if err != nil {
		return c, err
	}
	st, err := t.get(rowID)
	if err != nil {
		return c, err
	}
	if st == nil {
		return c, &NotFoundError{Table: c.Table, ID: c.Row}
	}
	v, err := syncproto.ValueOf(c.Loser.Value)
	if err != nil {
		return c, err
	}
	if c.Field == syncproto.TombstoneField && !v.AsBool() {
		// The record and its edits back (a delete that hid an edit,
		// hidden.go): not a row that would be live partial, as Restore.
		// The conflict stays listed, the row deleted.
		if err := st.restorable(); err != nil {
			return c, err
		}
	}
	if _, err := r.writeFields(t, st, []fieldWrite{{field: c.Field, value: v, force: true}}); err != nil {
		return c, err
	}
	now := r.now().UnixMilli()
	if err := t.exec(`UPDATE conflicts SET restored_at = ? WHERE id = ?`, now, id); err != nil {
		return c, err
	}
	if err := t.commit(); err != nil {
		return c, err
	}
	rt := time.UnixMilli(now)
	c.RestoredAt = &rt
	return c, nil
}

// Rejected is a local change the server refused, with its reason.
type Rejected struct {
	ID     int64     `json:"id"` // the change's local sequence
	Table  string    `json:"table"`
	Row    string    `json:"row_id"`
	Field  string    `json:"field"`
	Hamlet string    `json:"hamlet_code"`
	Value  any       `json:"value"`
	At     time.Time `json:"at"`
	Code   string    `json:"code"`
	// Reason is the server's text when it sent no Why (a server before
	// reasons were data); else empty: render Why (Text).
	Reason string `json:"reason"`
	// Why is the reason as data: a key and its parameters.
	Why *syncproto.Why `json:"why,omitempty"`
	// hamlets are the hamlets this laptop knows, code to label
	// (Enrollment.HamletLabel): Why names them so; one not there, by code.
	// A map, not a func, so that two listings compare equal.
	hamlets map[string]string
}

// Text is the refusal's reason in lang: rendered from Why, the hamlets by
// name where this laptop knows it, or the server's own text.
func (x *Rejected) Text(lang string) string {
	if x.Why != nil {
		return refusal.TextNamed(syncproto.Code(x.Code), *x.Why, lang, func(c string) string {
			if l, ok := x.hamlets[c]; ok {
				return l
			}
			return c
		})
	}
	return x.Reason
}

// loadWhy reads the stored reason (refusal.Store) into Why and Reason.
func (x *Rejected) loadWhy() {
	if w, text := refusal.Load(x.Reason); !w.IsZero() {
		x.Why, x.Reason = &w, text
	}
}

// Rejected lists the changes the server refused, oldest first. They stay
// until fixed (a new write to the field) or discarded.
func (r *Replica) Rejected(ctx context.Context) ([]Rejected, error) {
	var labels map[string]string // unreadable: the reasons name hamlets by code
	if en, err := r.Enrollment(ctx); err == nil && en != nil {
		labels = make(map[string]string, len(en.Scope)+len(en.Former))
		for _, hs := range [][]Hamlet{en.Former, en.Scope} {
			for _, h := range hs {
				labels[h.Code] = en.HamletLabel(h.Code)
			}
		}
	}
	rows, err := r.db.QueryContext(ctx, `SELECT seq, tbl, row_id, field, scope, kind, value, hlc, code, reason
		FROM outbox WHERE state = ? ORDER BY seq`, outboxRejected)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rejected
	for rows.Next() {
		x := Rejected{hamlets: labels}
		var kind, hlc int64
		var v any
		if err := rows.Scan(&x.ID, &x.Table, &x.Row, &x.Field, &x.Hamlet, &kind, &v, &hlc, &x.Code, &x.Reason); err != nil {
			return nil, err
		}
		x.Value = valueFrom(kind, v).Any()
		x.At = syncproto.HLC(hlc).Time()
		x.loadWhy()
		out = append(out, x)
	}
	return out, rows.Err()
}

func (t *txn) rejected(id int64) (Rejected, syncproto.Version, error) {
	var x Rejected
	var kind, hlc, baseSeq int64
	var v any
	var baseRep []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT seq, tbl, row_id, field, scope, kind, value, hlc, code, reason, base_replica, base_seq
		FROM outbox WHERE seq = ? AND state = ?`, id, outboxRejected).Scan(&x.ID, &x.Table, &x.Row, &x.Field, &x.Hamlet, &kind, &v, &hlc, &x.Code, &x.Reason, &baseRep, &baseSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return x, syncproto.Version{}, &NotFoundError{Table: "rejected", ID: itoa(id)}
	}
	x.Value = valueFrom(kind, v).Any()
	x.loadWhy()
	ver := syncproto.Version{Value: valueFrom(kind, v), HLC: syncproto.HLC(hlc), Dot: syncproto.Dot{Replica: t.r.id, Seq: uint64(id)}, Base: dotFrom(baseRep, baseSeq)}
	return x, ver, err
}

// Clear, as FixRejected's value, empties the field (the volunteer emptied
// it on the page): refused for a field a record must have.
var Clear any = clearValue{}

type clearValue struct{}

// FixRejected sends a refused change again as a new write: with value (a
// corrected value) when value is non-nil, empty with Clear, else the same
// value (after the cause was fixed elsewhere, say the team's scope). The
// entry leaves the list; if the new write is refused too, it comes back
// with the new reason.
//
// A household sent again takes with it the records refused because the
// server did not hold it (household_missing): they go again too, after
// it, so the volunteer fixes the household once.
func (r *Replica) FixRejected(ctx context.Context, id int64, value any) error {
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	pressed, _, err := t.rejected(id)
	if err != nil {
		return err
	}
	// A household's places, read before it goes again, which rewrites
	// its refused changes.
	var ps places
	if pressed.Table == "households" {
		hid, err := uuid.Parse(pressed.Row)
		if err != nil {
			return err
		}
		if ps, err = t.placesOf(hid); err != nil {
			return err
		}
	}
	into, err := r.intoAwaitedHousehold(t, pressed, value)
	if err != nil {
		return err
	}
	x, err := r.fixRejectedInto(t, id, value, into)
	if err != nil {
		return err
	}
	if x.Table == "households" {
		waiting, err := t.refusedForMissing(x.Row)
		if err != nil {
			return fmt.Errorf("find the records refused for household %s's absence: %w", x.Row, err)
		}
		hid, err := uuid.Parse(x.Row)
		if err != nil {
			return err
		}
		home, err := t.get(hid) // where the household is now, sent again
		if err != nil {
			return err
		}
		for _, seq := range waiting {
			into, err := t.followingHousehold(seq, home, ps)
			if err != nil {
				return fmt.Errorf("find where a record of household %s goes: %w", x.Row, err)
			}
			if _, err := r.fixRejectedInto(t, seq, nil, into); err != nil && !staysListed(err) {
				return fmt.Errorf("send again a record of household %s: %w", x.Row, err)
			}
		}
		if x.Field == schema.ScopeField {
			if err := r.rehomeChildrenOf(t, x); err != nil {
				return fmt.Errorf("send again the records of household %s refused with its move: %w", x.Row, err)
			}
		}
	}
	return t.commit()
}

// placesOf is where household row sat here, write by write: each of its
// own changes still in the outbox (written in the hamlet the household
// had then) and its own versions of hamlet_code, by sequence.
func (t *txn) placesOf(row uuid.UUID) (places, error) {
	st, err := t.get(row)
	if err != nil {
		return nil, err
	}
	var out places
	if st != nil {
		own := func(v *syncproto.Version) {
			if v.Dot.Replica == t.r.id {
				out = append(out, hhPlace{int64(v.Dot.Seq), v.Value.AsString()})
			}
		}
		if v := st.cur[schema.ScopeField]; v != nil {
			own(v)
		}
		for i := range st.hist {
			if h := &st.hist[i]; h.Field == schema.ScopeField && !h.Lost {
				own(&h.Ver)
			}
		}
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, scope FROM outbox WHERE row_id = ?`, row.String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p hhPlace
		if err := rows.Scan(&p.seq, &p.hamlet); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b hhPlace) int { return cmp.Compare(a.seq, b.seq) })
	return out, rows.Err()
}

// hhPlace is a household's hamlet as of one of its writes here.
type hhPlace struct {
	seq    int64
	hamlet string
}

type places []hhPlace

// movedSince reports whether the household moved after the write seq of
// one of its records, given where it is now: the server moves a
// household's records with it, whatever their own hamlet. ok is false
// when no write of the household before seq is known.
func (ps places) movedSince(seq int64, now string) (moved, ok bool) {
	i, _ := slices.BinarySearchFunc(ps, seq, func(p hhPlace, s int64) int { return cmp.Compare(p.seq, s) })
	if i == 0 {
		return false, false
	}
	then := ps[i-1].hamlet
	if now != then {
		return true, true
	}
	for _, p := range ps[i:] {
		if p.hamlet != then {
			return true, true
		}
	}
	return false, true
}

// followingHousehold is the hamlet a record refused for its household's
// absence goes into when it goes again: the household's hamlet here, when
// the record's refused hamlet is another; "" to go as it was. Sent as it
// was into the hamlet the team had lost, it stayed listed as waiting for
// a household the server then held (review 39, R3). A visit or a tutoring
// record is always in its household's hamlet. A report is of a place,
// which may be another hamlet: as the server would, it follows its
// household only if the household moved after it was filed (reviews 39b
// D1, 39c, 39f, 39g): when the household is now in another hamlet than
// when the report was filed (record_filed), or the sequence of their
// writes here shows a move after it (away and back, both moves still in
// the change log); when neither can be told, if it is in a hamlet the
// household had here.
func (t *txn) followingHousehold(seq int64, home *rowState, ps places) (string, error) {
	if home == nil {
		return "", nil
	}
	var row, table string
	if err := t.tx.QueryRowContext(t.ctx, `SELECT row_id, tbl FROM outbox WHERE seq = ?`, seq).Scan(&row, &table); err != nil {
		return "", err
	}
	tb, err := t.r.lookup(table)
	if err != nil {
		return "", err
	}
	var hamlet string
	var filed int64
	err = t.tx.QueryRowContext(t.ctx, `SELECT scope, (SELECT min(seq) FROM outbox WHERE state = ?1 AND row_id = ?2)
		FROM outbox WHERE state = ?1 AND row_id = ?2 AND field = ?3 ORDER BY seq DESC LIMIT 1`,
		outboxRejected, row, schema.ScopeField).Scan(&hamlet, &filed)
	if errors.Is(err, sql.ErrNoRows) || err == nil && hamlet == home.scope {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if tb.ParentTable != "households" {
		moved, ok := ps.movedSince(filed, home.scope)
		at, known, err := t.filedBeside(row)
		if err != nil {
			return "", err
		}
		if known {
			moved, ok = moved || at != home.scope, true
		}
		if !ok {
			moved = slices.ContainsFunc(ps, func(p hhPlace) bool { return p.hamlet == hamlet })
		}
		if !moved {
			return "", nil
		}
	}
	return home.scope, nil
}

// intoAwaitedHousehold is the hamlet a record refused for its household's
// absence goes into when pressed itself («send again» on the record, not
// on its household): where its household's moves since its filing put it,
// as when the household goes (followingHousehold). Decided at its
// household's turn instead, it was lost: the press writes the record's
// changes anew, after the household's moves, and it stayed in its place
// (review 39h). "" (as it was) for any other record, a hamlet the
// volunteer chose, or a household whose hamlet the team does not cover:
// the record is not sent into a hamlet other than the one pressed only
// to be refused there.
func (r *Replica) intoAwaitedHousehold(t *txn, x Rejected, value any) (string, error) {
	if x.Table == "households" || x.Why == nil || x.Why.Key != refusal.HouseholdMissing ||
		value != nil && x.Field == schema.ScopeField {
		return "", nil
	}
	hid, err := uuid.Parse(x.Why.Params["household"])
	if err != nil {
		return "", nil // a reason naming no household: the record goes as it was
	}
	home, err := t.get(hid)
	if err != nil || home == nil {
		return "", err
	}
	ps, err := t.placesOf(hid)
	if err != nil {
		return "", err
	}
	into, err := t.followingHousehold(x.ID, home, ps)
	if err != nil || into == "" {
		return "", err
	}
	if r.checkScopeIn(t.ctx, t.tx, into) != nil {
		return "", nil
	}
	return into, nil
}

// recordFiledMigration: for a report not yet settled with the server,
// the hamlet its household had here when the report was filed, or named
// that household. Whether the household moved since cannot be told from
// the sequence numbers of their writes: «send again» writes a record's or
// a household's refused changes anew, after every move (reviews 39h, 39i).
const recordFiledMigration = `
CREATE TABLE IF NOT EXISTS record_filed (
	row_id TEXT PRIMARY KEY,
	hamlet TEXT NOT NULL
) WITHOUT ROWID;
`

// noteFiled notes (record_filed) the hamlet of the household a report's
// write names, when it names it anew: a new report, or another household.
// A write naming the same household (a resend, an edit) keeps the note: it
// was filed then. Visits and tutoring are always in their household's
// hamlet and need none.
func (t *txn) noteFiled(st *rowState, ws []fieldWrite) error {
	i := slices.IndexFunc(ws, func(w fieldWrite) bool { return w.field == householdField })
	if i < 0 || st.table == "households" {
		return nil
	}
	named := ws[i].value.AsString()
	cur := st.cur[householdField]
	if cur != nil && cur.Value.AsString() == named {
		return nil
	}
	tb, err := t.r.lookup(st.table)
	if err != nil || tb.ParentTable == "households" {
		return err
	}
	hid, err := uuid.Parse(named)
	if err != nil {
		return nil // names no household (a report of a place alone)
	}
	// A row this laptop no longer holds, sent again whole, has no current
	// value: its first note stands.
	return t.fileBeside(st.idText(), hid, cur != nil)
}

// fileBeside notes the hamlet household has here as the one report row
// was filed beside; replace is false to keep a note already there.
func (t *txn) fileBeside(row string, household uuid.UUID, replace bool) error {
	h, err := t.get(household)
	if err != nil || h == nil {
		return err
	}
	verb := "INSERT OR IGNORE"
	if replace {
		verb = "INSERT OR REPLACE"
	}
	return t.exec(verb+` INTO record_filed (row_id, hamlet) VALUES (?, ?)`, row, h.scope)
}

// unfileMove takes a household's discarded move out of its reports' notes:
// one filed while the household sat in the hamlet of the move (refused,
// now discarded) was, as the server will know it, filed beside the
// household in the hamlet it had before the move (from). Kept, the
// household's return read as a move after the report, which the report
// followed (review 40, D1); made the hamlet it has now, a later move
// after the discarded one was missed (review 40b). A note of the move's
// hamlet from a stay there before the move is rewritten too: the note
// holds a hamlet, not the household's version (open, review 40b).
func (t *txn) unfileMove(household *rowState, movedTo, from string) error {
	for _, tb := range householdRecordTables() {
		if err := t.exec(`UPDATE record_filed SET hamlet = ? WHERE hamlet = ? AND row_id IN (SELECT id FROM `+tb+` WHERE `+householdField+` = ?)`,
			from, movedTo, household.idText()); err != nil {
			return err
		}
	}
	return nil
}

// filedBeside is the hamlet the household of report row had when the
// report was filed; known is false for a report filed before this was
// kept (older replicas) or settled with the server since.
func (t *txn) filedBeside(row string) (hamlet string, known bool, err error) {
	err = t.tx.QueryRowContext(t.ctx, `SELECT hamlet FROM record_filed WHERE row_id = ?`, row).Scan(&hamlet)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return hamlet, err == nil, err
}

// forgetFiled drops the notes of reports with no change left to settle
// (taken by the server, or dropped here).
func (t *txn) forgetFiled() error {
	return t.exec(`DELETE FROM record_filed WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.row_id = record_filed.row_id)
		AND NOT EXISTS (SELECT 1 FROM outbox_rows r WHERE r.row_id = record_filed.row_id)`)
}

// refusedForMissing lists, a change a row, the refused changes of the rows
// refused because the server did not hold household (household_missing).
func (t *txn) refusedForMissing(household string) ([]int64, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, row_id, reason FROM outbox WHERE state = ? AND code = ? AND row_id != ? ORDER BY seq`,
		outboxRejected, string(syncproto.CodeInvalidValue), household)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	seen := map[string]bool{}
	for rows.Next() {
		var seq int64
		var row, reason string
		if err := rows.Scan(&seq, &row, &reason); err != nil {
			return nil, err
		}
		w, _ := refusal.Load(reason)
		if seen[row] || w.Key != refusal.HouseholdMissing || w.Params["household"] != household {
			continue
		}
		seen[row] = true
		out = append(out, seq)
	}
	return out, rows.Err()
}

// fixRejected is FixRejected of one refused change in t.
func (r *Replica) fixRejected(t *txn, id int64, value any) (Rejected, error) {
	return r.fixRejectedInto(t, id, value, "")
}

// fixRejectedInto is fixRejected sending the row into hamlet into, when
// not "" and the row's hamlet is among its refused changes.
func (r *Replica) fixRejectedInto(t *txn, id int64, value any, into string) (Rejected, error) {
	x, ver, err := t.rejected(id)
	if err != nil {
		return x, err
	}
	v := ver.Value
	tb, err := r.lookup(x.Table)
	if err != nil {
		return x, err
	}
	if value == Clear {
		if f, ok := tb.Field(x.Field); ok && f.Required {
			return x, &schema.ValidationError{Table: x.Table, Field: x.Field, Code: schema.CodeRequired}
		}
		v = syncproto.Null()
	} else if value != nil {
		norm, err := tb.CheckWrite(schema.Write{Fields: map[string]any{x.Field: value}, Writer: schema.WriterVolunteer, Today: r.today()})
		if err != nil {
			return x, err
		}
		if v, err = syncproto.ValueOf(norm[x.Field]); err != nil {
			return x, err
		}
	}
	rowID, err := uuid.Parse(x.Row)
	if err != nil {
		return x, err
	}
	st, err := t.get(rowID)
	if err != nil {
		return x, err
	}
	gone := st == nil
	if st == nil {
		st = newRowState(x.Table, rowID, x.Hamlet)
	}
	// The server judges a new row by what one push carries for it, and
	// refuses it whole: the row's other refused writes go again with this
	// one, so a household refused for one field arrives whole once fixed.
	// A refused write this laptop overwrote before its refusal came back
	// (a household moved after the push that added it): the field's value
	// now goes, never the refused one over it. One a teammate's write
	// won over here goes as it was: sending it again is the volunteer's
	// call (review 37).
	held := func(f string, seq int64, refused syncproto.Value) syncproto.Value {
		if cur := st.cur[f]; cur != nil && cur.Dot.Replica == t.r.id && cur.Dot.Seq > uint64(seq) {
			return cur.Value
		}
		return refused
	}
	if value == nil {
		v = held(x.Field, id, v)
	}
	ws := []fieldWrite{{field: x.Field, value: v, force: true}}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, field, kind, value FROM outbox WHERE state = ? AND row_id = ? AND seq != ? ORDER BY seq`,
		outboxRejected, x.Row, id)
	if err != nil {
		return x, err
	}
	for rows.Next() {
		var seq, kind int64
		var f string
		var val any
		if err := rows.Scan(&seq, &f, &kind, &val); err != nil {
			rows.Close()
			return x, err
		}
		if i := slices.IndexFunc(ws, func(w fieldWrite) bool { return w.field == f }); i >= 0 {
			if f != x.Field {
				ws[i] = fieldWrite{field: f, value: held(f, seq, valueFrom(kind, val)), force: true} // the later write of the field
			}
			continue
		}
		ws = append(ws, fieldWrite{field: f, value: held(f, seq, valueFrom(kind, val)), force: true})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return x, err
	}
	if into != "" {
		if i := slices.IndexFunc(ws, func(w fieldWrite) bool { return w.field == schema.ScopeField }); i >= 0 {
			ws[i].value = syncproto.String(into)
		}
	}
	if gone {
		// Not held here: only a new row whose adding was refused can go
		// again; an edit alone would make a row of its fields here.
		added, err := t.refusedAdding(tb, x.Row)
		if err != nil {
			return x, err
		}
		if !added {
			return x, &RecordGoneError{Table: x.Table, ID: x.Row}
		}
	}
	// Sent again, a change is a write like any other: it puts no row in a
	// hamlet the team no longer covers, as far as this laptop last heard.
	// The server would refuse it again, unless the team got the hamlet
	// back and lost it again before this laptop synced: then it took it,
	// and the laptop, whose Welcome named the hamlets it already held,
	// kept a row of another team's hamlet for good (wide seed 5803541).
	// A row the server holds goes without its refused move there, which
	// stays listed: the volunteer sent again another of its changes (a
	// date), which the move must not hold back (review 39, R1). A row the
	// server never took goes whole or not at all.
	if i := slices.IndexFunc(ws, func(w fieldWrite) bool { return w.field == schema.ScopeField }); i >= 0 {
		if err := r.checkScopeIn(t.ctx, t.tx, ws[i].value.AsString()); err != nil {
			if gone || x.Field == schema.ScopeField {
				return x, err
			}
			taken, terr := t.holdsTaken(st)
			if terr != nil {
				return x, terr
			}
			if !taken {
				return x, err
			}
			ws = slices.Delete(ws, i, i+1)
		}
	}
	slices.SortStableFunc(ws, func(a, b fieldWrite) int { return fieldOrder(tb, a.field) - fieldOrder(tb, b.field) })
	_, err = r.writeFields(t, st, ws)
	return x, err
}

// refusedAdding reports whether the refused changes of a row include its
// adding: a write of each required field over nothing (no base). An edit
// that moves a household and renames its head carries both required
// fields too, written over the versions it changed (review 36, D1).
func (t *txn) refusedAdding(tb *schema.Table, row string) (bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT field FROM outbox WHERE state = ? AND row_id = ? AND coalesce(base_seq, 0) = 0`,
		outboxRejected, row)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	added := map[string]bool{}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return false, err
		}
		added[f] = true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	for i := range tb.Fields {
		if f := &tb.Fields[i]; f.Required && !added[f.Name] {
			return false, nil
		}
	}
	return true, nil
}

// fieldOrder is a field's place in its table, the tombstone last.
func fieldOrder(t *schema.Table, name string) int {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return i
		}
	}
	return len(t.Fields)
}

// DiscardRejected drops a refused change. If the field still holds it, the
// field goes back to the value it overwrote (the server never took the
// refused one, so this is local only and matches the server again).
func (r *Replica) DiscardRejected(ctx context.Context, id int64) error {
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := r.discardRejected(t, id); err != nil {
		return err
	}
	return t.commit()
}

// DiscardEffect is what discarding refused changes takes off the laptop
// besides the changes themselves.
type DiscardEffect struct {
	// Table and Row name the record the changes are of.
	Table, Row string
	// Whole: the record itself goes. The server never took it, and
	// without the discarded changes it lacks a field it requires (a
	// household without its head's name is no record).
	Whole bool
	// Records counts the other records that go with it: a household's
	// visits, tutoring and reports the server refused for its absence.
	Records int
	// Leaves: the record leaves this laptop, not for good: the server
	// holds it in a hamlet the team no longer covers, where the discard
	// put it back (dropIfNotHeld). Said, or the household vanished from
	// the laptop at a press that said only "dropped the change" (review
	// 39d).
	Leaves bool
}

// DiscardPreview says what DiscardRejected of ids, in order, would take
// with it, changing nothing: the volunteer is told before a "drop this
// change" drops a whole household and its visits. It runs the discard in
// a transaction it rolls back, so the preview and the discard cannot
// disagree. Ids already gone (a second click) are skipped, as the app
// does.
func (r *Replica) DiscardPreview(ctx context.Context, ids []int64) (DiscardEffect, error) {
	var eff DiscardEffect
	if len(ids) == 0 {
		return eff, nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return eff, err
	}
	defer t.rollback()
	x, _, err := t.rejected(ids[0])
	if err != nil {
		return eff, err
	}
	eff.Table, eff.Row = x.Table, x.Row
	before, err := t.liveRecordsOf(x.Table, x.Row)
	if err != nil {
		return eff, err
	}
	for _, id := range ids {
		var nf *NotFoundError
		if err := r.discardRejected(t, id); err != nil && !errors.As(err, &nf) {
			return eff, err
		}
	}
	after, err := t.liveRecordsOf(x.Table, x.Row)
	if err != nil {
		return eff, err
	}
	// Gone, but the server holds it (a discarded move put it back in a
	// hamlet this laptop no longer holds): not gone for good.
	eff.Whole = before.self && !after.self && !before.taken
	eff.Leaves = before.self && !after.self && before.taken
	eff.Records = max(0, before.children-after.children)
	return eff, nil
}

// liveRecords: whether a row is live here, and how many live child rows
// name it (a household's).
type liveRecords struct {
	self     bool
	taken    bool // it holds a version the server took
	children int
}

func (t *txn) liveRecordsOf(table, row string) (liveRecords, error) {
	var out liveRecords
	id, err := uuid.Parse(row)
	if err != nil {
		return out, err
	}
	st, err := t.get(id)
	if err != nil {
		return out, err
	}
	out.self = st != nil && !st.deleted()
	if st != nil {
		if out.taken, err = t.holdsTaken(st); err != nil {
			return out, err
		}
	}
	if table != "households" {
		return out, nil
	}
	for _, tb := range householdRecordTables() {
		var n int
		if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM `+tb+` WHERE `+householdField+` = ? AND _deleted = 0`, row).Scan(&n); err != nil {
			return out, err
		}
		out.children += n
	}
	return out, nil
}

// discardRejected is DiscardRejected of one refused change in t.
func (r *Replica) discardRejected(t *txn, id int64) error {
	x, ver, err := t.rejected(id)
	if err != nil {
		return err
	}
	if err := t.exec(`DELETE FROM outbox WHERE seq = ?`, id); err != nil {
		return err
	}
	rowID, err := uuid.Parse(x.Row)
	if err != nil {
		return err
	}
	st, err := t.get(rowID)
	if err != nil {
		return err
	}
	if err := t.rebaseOffRefused(rowID, st, x.Field, map[uint64]syncproto.Dot{ver.Dot.Seq: ver.Base}); err != nil {
		return err
	}
	if x.Table == "field_reports" && x.Field == schema.PhotoDigestsField && ver.Value.Kind() == syncproto.KindString {
		// The server never held this list's naming of its photos: a note
		// that a drop left (photos.away) of one the server's list does not
		// name either (away_held 0) is of a photo nobody is to send now.
		// Kept, it was offered, refused and told as this laptop's loss. A
		// note made before away_held (NULL) goes by the rule it was made
		// under: forgotten only when the server held no list at all.
		unknownToo := 0
		if ver.Base == (syncproto.Dot{}) {
			unknownToo = 1
		}
		for _, d := range schema.PhotoDigests(ver.Value.AsString()) {
			if err := t.exec(`UPDATE photos SET away = NULL WHERE away = ? AND digest = ? AND (away_held = 0 OR away_held IS NULL AND ? = 1)`, x.Row, d, unknownToo); err != nil {
				return err
			}
		}
	}
	if st != nil {
		// A household's hamlet before a discarded move (unfileMove), read
		// before the history changes.
		from := ""
		if x.Table == "households" && x.Field == schema.ScopeField {
			if v := st.overwritten(x.Field, ver.Base); v != nil && v.Value.Kind() == syncproto.KindString {
				from = v.Value.AsString()
			}
		}
		if cur := st.cur[x.Field]; cur != nil && cur.Dot == ver.Dot {
			delete(st.cur, x.Field)
			// Back to what the server holds, taken out of the history: the
			// version it overwrote, or a teammate's write over that same
			// version that lost here to the refused one only, whichever wins.
			// The version overwritten alone put back a hamlet the server
			// had left for the teammate's (review 38e).
			back := -1
			for i, h := range st.hist {
				if h.Field != x.Field || !(h.Ver.Dot == ver.Base && !h.Lost || h.Lost && h.Ver.Base == ver.Base && h.Ver.Dot != ver.Dot) {
					continue
				}
				if back < 0 || syncproto.Wins(h.Ver.HLC, h.Ver.Dot, st.hist[back].Ver.HLC, st.hist[back].Ver.Dot) {
					back = i
				}
			}
			if back >= 0 {
				h := st.hist[back]
				if h.Lost {
					// It never lost on the server: not a conflict any more.
					if err := t.exec(`DELETE FROM conflicts WHERE row_id = ? AND field = ? AND loser_replica = ? AND loser_seq = ? AND winner_replica = ? AND winner_seq = ?`,
						x.Row, x.Field, h.Ver.Dot.Replica[:], int64(h.Ver.Dot.Seq), ver.Dot.Replica[:], int64(ver.Dot.Seq)); err != nil {
						return err
					}
				}
				v := h.Ver
				st.cur[x.Field] = &v
				st.hist = append(st.hist[:back], st.hist[back+1:]...)
			}
		} else {
			// Overwritten here before its refusal came back: it leaves the
			// history too. Kept, a write the server never took passed for
			// one it took (holdsTaken), and a new row discarded field by
			// field stayed live without its hamlet (simulation, fixing
			// world, seed 4802253).
			st.hist = slices.DeleteFunc(st.hist, func(h histEntry) bool { return h.Field == x.Field && h.Ver.Dot == ver.Dot })
		}
		whole, err := t.lacksRequired(st)
		if err != nil {
			return err
		}
		switch {
		case whole:
			err = t.discardNewRow(st)
		case len(st.cur) == 0:
			if err = t.drop(st.table, st.id, st); err == nil {
				err = t.forgetPhotosAway(st.id)
			}
		default:
			err = t.save(st)
		}
		if err != nil {
			return err
		}
		if !whole && x.Table == "households" && x.Field == schema.ScopeField && st.scope != x.Hamlet {
			if from == "" {
				from = st.scope
			}
			if err := t.unfileMove(st, x.Hamlet, from); err != nil {
				return fmt.Errorf("note household %s back in %s for its reports: %w", x.Row, st.scope, err)
			}
			if err := r.rehomeRefusedChildren(t, st, x.Hamlet); err != nil {
				return fmt.Errorf("send again the records of household %s refused in the hamlet it was moved to: %w", x.Row, err)
			}
		}
		// Any discard: a row kept in a hamlet lost since by another of its
		// refusals (a date beside the move put back) has nothing left to
		// keep it once that goes too (review 39, R2).
		if !whole && len(st.cur) > 0 {
			if err := r.dropIfNotHeld(t, st); err != nil {
				return fmt.Errorf("drop record %s, back in a hamlet this laptop no longer holds: %w", x.Row, err)
			}
		}
	}
	return nil
}

// dropIfNotHeld drops a row left, by a discard, in a hamlet this replica
// no longer holds, as the rescope that lost the hamlet would have: it was
// kept then only beside the discarded refusal (its move's, or another's
// beside a move put back before). Kept now, it stayed live outside the
// team's hamlets, with nothing beside it and nothing ever to drop it
// (review 38d). A row with another refused change stays beside that one.
func (r *Replica) dropIfNotHeld(t *txn, st *rowState) error {
	held, ok, err := r.metaList(t.ctx, t.tx, metaScopeHeld)
	if err != nil || !ok || slices.Contains(held, st.scope) {
		return err
	}
	refused, err := t.seqsIn(st.id, outboxRejected, outboxRejected)
	if err != nil || len(refused) > 0 {
		return err
	}
	return t.drop(st.table, st.id, st)
}

// rehomeChildrenOf sends again, with a household's refused move sent
// again, the records added to it after the move and refused with it: they
// go in the hamlet the household has now.
func (r *Replica) rehomeChildrenOf(t *txn, move Rejected) error {
	id, err := uuid.Parse(move.Row)
	if err != nil {
		return err
	}
	st, err := t.get(id)
	if err != nil || st == nil {
		return err
	}
	return r.rehomeRefusedChildren(t, st, move.Hamlet)
}

// rehomeRefusedChildren follows a household whose refused move was just
// discarded or sent again: a record added to it after the move was made in
// the hamlet it was moved to (a child row's hamlet is its household's),
// and the server refused it for that hamlet with the move. It goes again,
// whole, in the household's hamlet now, as the volunteer would have logged
// it there (review 37c: discarding the move left the visit refused for a
// hamlet the household is no longer in here).
func (r *Replica) rehomeRefusedChildren(t *txn, household *rowState, refusedHamlet string) error {
	var seqs []int64
	for _, tb := range householdRecordTables() {
		rows, err := t.tx.QueryContext(t.ctx, `SELECT min(o.seq) FROM outbox o JOIN `+tb+` c ON c.id = o.row_id
			WHERE o.state = ? AND o.field = ? AND o.scope = ? AND c.`+householdField+` = ? GROUP BY o.row_id ORDER BY 1`,
			outboxRejected, schema.ScopeField, refusedHamlet, household.id.String())
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	for _, seq := range seqs {
		if _, err := r.fixRejected(t, seq, household.scope); err != nil && !staysListed(err) {
			return err
		}
	}
	return nil
}

// staysListed reports whether a record sent again with its household
// (FixRejected, rehomeRefusedChildren) could not go, and stays in the
// rejected list as it was: it left the laptop, or its hamlet is not one
// the team covers.
func staysListed(err error) bool {
	var gone *RecordGoneError
	var scope *ScopeError
	return errors.As(err, &gone) || errors.As(err, &scope)
}

// lacksRequired reports whether a live row that the server never took (it
// refuses a new row whole) holds no value for a field its table requires:
// one of its required fields was just discarded. A row holding any
// version the server took is left alone, whatever it lacks (review 36,
// D2: a row the server holds, made partial here by an older release).
func (t *txn) lacksRequired(st *rowState) (bool, error) {
	if v := st.cur[syncproto.TombstoneField]; v != nil && v.Value.Kind() == syncproto.KindBool && v.Value.AsBool() {
		return false, nil
	}
	if taken, err := t.holdsTaken(st); err != nil || taken {
		return false, err
	}
	tb, err := t.r.lookup(st.table)
	if err != nil {
		return false, err
	}
	for i := range tb.Fields {
		if f := &tb.Fields[i]; f.Required && st.cur[f.Name] == nil {
			return true, nil
		}
	}
	return false, nil
}

// holdsTaken reports whether a row state holds a version the server took:
// another replica's, or one of this laptop's neither pending nor refused.
func (t *txn) holdsTaken(st *rowState) (bool, error) {
	unsettled, err := t.unsettledSeqs(st.id)
	if err != nil {
		return false, err
	}
	taken := func(v *syncproto.Version) bool {
		return v.Dot.Replica != t.r.id || !unsettled.holds(v.Dot.Seq)
	}
	for _, v := range st.cur {
		if taken(v) {
			return true, nil
		}
	}
	for i := range st.hist {
		if taken(&st.hist[i].Ver) {
			return true, nil
		}
	}
	return false, nil
}

// discardedCode marks an unsent write of a row discarded whole
// (discardNewRow): pushed all the same, and dropped at its answer.
const discardedCode = "discarded"

// discardNewRow discards a new row the server never took, whole: a
// household without its head or hamlet is no record, can never go to the
// server whole again (it refuses a new row whole, and what is sent again
// goes with the row's other refused writes), and stayed here, live and
// partial, for good (simulation, fixing world, seed 9100104). Its other
// refused writes go with it, and its unsent ones once answered; a row
// with a change whose answer was lost (unacknowledged) is left as it is,
// to be decided by that answer. A change read into a push under way is
// still unsent here: the server refuses it with the row (it never holds
// the row whole), and its answer drops it.
func (t *txn) discardNewRow(st *rowState) error {
	// A change refused as replica_forked has had its answer: it waits
	// only for the fork to send it again under the new id, unsent like a
	// pending one. Counted as waiting, a household made by a copied
	// folder kept, after the discard of its refused hamlet, its other
	// fields, live and partial for good (simulation, seed 7252849).
	var waiting int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT (SELECT count(*) FROM outbox WHERE row_id = ?1 AND state = ?2 AND code != ?3)
		+ (SELECT count(*) FROM outbox_rows WHERE row_id = ?1)`, st.id.String(), outboxUnacked, string(syncproto.CodeReplicaForked)).Scan(&waiting); err != nil {
		return err
	}
	if waiting > 0 {
		return t.save(st)
	}
	if err := t.exec(`DELETE FROM outbox WHERE row_id = ? AND state = ?`, st.id.String(), outboxRejected); err != nil {
		return err
	}
	// An unsent write of it still goes, marked, so the numbers this
	// replica pushes stay in order: deleted, it left a gap the server
	// answered with sequence_gap at every sync, for good (simulation,
	// fixing world, seed 4700405). Its answer, whatever it is, drops it.
	if err := t.exec(`UPDATE outbox SET code = ? WHERE row_id = ? AND (state = ? OR state = ? AND code = ?)`,
		discardedCode, st.id.String(), outboxPending, outboxUnacked, string(syncproto.CodeReplicaForked)); err != nil {
		return err
	}
	if err := t.drop(st.table, st.id, st); err != nil {
		return err
	}
	// The drop kept the unsent writes to bring back with the row (away.go):
	// they are discarded, and the server never holds the row to bring
	// back (review 37b: left, own_away held them until a re-clone).
	if err := t.forgetAway(st.id); err != nil {
		return err
	}
	if err := t.forgetPhotosAway(st.id); err != nil {
		return err
	}
	if st.table != "households" {
		return nil
	}
	// Its records the server never took can never be attached to it now:
	// they go with it. Those refused for the household's absence first
	// (review 36, D3: left, the list told the volunteer to send the
	// household again), and any other: a visit dated by a laptop whose
	// clock ran ahead is refused for its own date before its household's
	// absence, and stayed live and listed, naming a household gone here.
	kids, err := t.childrenOf(st.id.String())
	if err != nil {
		return err
	}
	for _, id := range kids {
		child, err := t.get(id)
		if err != nil {
			return err
		}
		if child == nil {
			continue
		}
		if taken, err := t.holdsTaken(child); err != nil {
			return err
		} else if taken {
			continue
		}
		if err := t.discardNewRow(child); err != nil {
			return err
		}
	}
	return nil
}

// householdField names, in a record of a household, the household.
const householdField = "household_id"

// householdRecordTables are the tables whose rows may name a household:
// visits and tutoring, which belong to one, and field reports, which may
// concern one. The server moves each row with the household it names,
// whatever the schema's parent link says (server/install.go).
func householdRecordTables() []string {
	var out []string
	for _, tb := range schema.SyncedTables() {
		if _, ok := tb.Field(householdField); ok && tb.Name != "households" {
			out = append(out, tb.Name)
		}
	}
	return out
}

// childrenOf lists the rows, of every table of a household's records,
// that name household.
func (t *txn) childrenOf(household string) ([]syncproto.RowID, error) {
	var out []syncproto.RowID
	for _, tb := range householdRecordTables() {
		ids, err := t.queryRowIDs(tb, `SELECT id FROM `+tb+` WHERE `+householdField+` = ? ORDER BY id`, household)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// queryRowIDs runs a query of the ids of table's rows.
func (t *txn) queryRowIDs(table, query string, args ...any) ([]syncproto.RowID, error) {
	rows, err := t.tx.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syncproto.RowID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		rid, err := uuid.Parse(id)
		if err != nil {
			return nil, &FileError{Path: t.r.path, Kind: ErrCorrupt, Err: fmt.Errorf("%s row id %q: %w", table, id, err)}
		}
		out = append(out, rid)
	}
	return out, rows.Err()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Fields are field values of one row, by field name. Values are what
// schema.Table.NormalizeValue accepts: nil, bool, int64, float64, string.
type Fields map[string]any

// fieldWrite is one normalised field value to write.
type fieldWrite struct {
	field string
	value syncproto.Value
	force bool // write even if the value is unchanged (a retry)
	// raw is the value as the check gave it (normalize), already boxed:
	// the import binds it to the row table's column instead of boxing
	// the value again (nil when not known).
	raw any
}

func lookup(table string) (*schema.Table, error) {
	t, ok := schema.LookupTable(table)
	if !ok {
		return nil, &schema.ValidationError{Table: table, Code: schema.CodeUnknownTable}
	}
	return t, nil
}

// lookup is the table as this replica's schema knows it.
func (r *Replica) lookup(table string) (*schema.Table, error) {
	t, ok := r.sch.Table(table)
	if !ok {
		return nil, &schema.ValidationError{Table: table, Code: schema.CodeUnknownTable}
	}
	return t, nil
}

// normalize validates fs against the table with schema's one check of a
// write (the server runs the same on what it receives) and orders the
// writes by the table's field order (the tombstone last), so the same input
// always makes the same changes.
func (r *Replica) normalize(t *schema.Table, fs Fields, create bool) ([]fieldWrite, error) {
	return normalizeOn(t, fs, create, r.today(), nil)
}

// normalizeOn is normalize on the day today (the replica's, YYYY-MM-DD),
// the check writing into into (a new map when nil): an import checks all
// its rows against the day it began, with one map.
func normalizeOn(t *schema.Table, fs Fields, create bool, today string, into map[string]any) ([]fieldWrite, error) {
	norm, err := t.CheckWriteInto(schema.Write{Create: create, Fields: map[string]any(fs), Writer: schema.WriterVolunteer, Today: today}, into)
	if err != nil {
		return nil, err
	}
	out := make([]fieldWrite, 0, len(norm))
	add := func(k string, v any) error {
		val, err := syncproto.ValueOf(v)
		if err != nil {
			return err
		}
		out = append(out, fieldWrite{field: k, value: val, raw: v})
		return nil
	}
	for i := range t.Fields {
		if v, ok := norm[t.Fields[i].Name]; ok {
			if err := add(t.Fields[i].Name, v); err != nil {
				return nil, err
			}
		}
	}
	if len(out) < len(norm) { // the tombstone (fields of no table field), by name
		var rest []string
		for k := range norm {
			if fieldOrder(t, k) == len(t.Fields) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			if err := add(k, norm[k]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// AddOption changes how a record is added.
type AddOption func(*addOptions)

type addOptions struct {
	id         syncproto.RowID
	unlessSame bool
	sameKey    string // SameConfirmed
}

// UnlessSame refuses to add a household when a live one with the same
// head's name, hamlet, phone and address is here already (as import
// counts them, householdKey): a *SameHouseholdError names it, so that the
// volunteer can open it, or save again without this option if it is
// another household after all.
func UnlessSame() AddOption { return func(o *addOptions) { o.unlessSame = true } }

// SameConfirmed, with UnlessSame, adds the household all the same when it
// is the one a SameHouseholdError was about (key, its Key): the volunteer
// said it is another household. Changed since (another phone, another
// name), it is checked again.
func SameConfirmed(key string) AddOption { return func(o *addOptions) { o.sameKey = key } }

// WithID adds the record under id, chosen by the caller before the
// volunteer saved (the app's forms carry one), so that the same save
// arriving twice (a double click, a form sent again from the browser's
// history) adds one record: when a record with that id is here already,
// alive or deleted, the add writes nothing and returns its id.
func WithID(id syncproto.RowID) AddOption { return func(o *addOptions) { o.id = id } }

func addOptionsOf(opts []AddOption) addOptions {
	var o addOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Insert creates a row in table and returns its new id.
func (r *Replica) Insert(ctx context.Context, table string, fs Fields, opts ...AddOption) (syncproto.RowID, error) {
	t, err := r.lookup(table)
	if err != nil {
		return uuid.Nil, err
	}
	ws, err := r.normalize(t, fs, true)
	if err != nil {
		return uuid.Nil, err
	}
	id := r.newID()
	o := addOptionsOf(opts)
	if o.id != uuid.Nil {
		id = o.id
	}
	if o.unlessSame && table == "households" {
		if err := r.refuseSame(ctx, id, ws, o.sameKey); err != nil {
			return uuid.Nil, err
		}
	}
	if err := r.writeRow(ctx, table, id, ws, true); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// Update writes the given fields of an existing row. Unchanged values make
// no change.
func (r *Replica) Update(ctx context.Context, table string, id syncproto.RowID, fs Fields) error {
	t, err := r.lookup(table)
	if err != nil {
		return err
	}
	ws, err := r.normalize(t, fs, false)
	if err != nil {
		return err
	}
	return r.writeRow(ctx, table, id, ws, false)
}

// Delete writes the row's tombstone; Restore clears it. Both sync like any
// field write.
func (r *Replica) Delete(ctx context.Context, table string, id syncproto.RowID) error {
	return r.writeRow(ctx, table, id, []fieldWrite{{field: syncproto.TombstoneField, value: syncproto.Bool(true)}}, false)
}

// Restore undoes a delete. A row that lacks a field every such record
// needs stays deleted (RestoreIncompleteError): live, it would reach the
// app, the lists and the server as a partial row. A new household whose
// refused head's name the volunteer discarded, then restored, was one
// (simulation seed 9589472); the server refuses such a restore too
// (restore_incomplete).
func (r *Replica) Restore(ctx context.Context, table string, id syncproto.RowID) error {
	t, err := r.beginRead(ctx)
	if err != nil {
		return err
	}
	st, err := t.get(id)
	t.rollback()
	if err != nil {
		return err
	}
	if st != nil && st.table == table {
		if err := st.restorable(); err != nil {
			return err
		}
	}
	return r.writeRow(ctx, table, id, []fieldWrite{{field: syncproto.TombstoneField, value: syncproto.Bool(false)}}, false)
}

// restorable is nil unless st is a deleted row that lacks a field every
// such record needs (RestoreIncompleteError): clearing its tombstone, by
// Restore or by restoring the conflict of a delete that hid an edit
// (RestoreConflict), would make it live partial.
func (st *rowState) restorable() error {
	if !st.deleted() {
		return nil
	}
	if tbl, ok := schema.LookupTable(st.table); ok {
		for _, f := range tbl.Fields {
			if v := st.cur[f.Name]; f.Required && (v == nil || v.Value.IsNull()) {
				return &RestoreIncompleteError{Table: st.table, ID: st.id.String(), Field: f.Name}
			}
		}
	}
	return nil
}

// checkScope refuses a hamlet the enrolled team does not cover (before
// sync, so the volunteer hears it at once rather than as a refusal later).
func (r *Replica) checkScope(ctx context.Context, hamlet string) error {
	return r.checkScopeIn(ctx, r.db, hamlet)
}

// checkScopeIn is checkScope read through q (a transaction under way).
func (r *Replica) checkScopeIn(ctx context.Context, q querier, hamlet string) error {
	e, err := r.enrollment(ctx, q)
	if err != nil || e == nil || len(e.Scope) == 0 {
		return err
	}
	for _, h := range e.Scope {
		if h.Code == hamlet {
			return nil
		}
	}
	return &ScopeError{Hamlet: hamlet, Name: e.HamletName(hamlet), Scope: e.Scope}
}

// writeRow is every local write: row table, row_state (versions) and outbox
// in one transaction.
//
// A create finding a row under its id leaves it as it is: a fresh id is
// never held, so the row was added by the same save before (WithID).
func (r *Replica) writeRow(ctx context.Context, table string, id syncproto.RowID, ws []fieldWrite, create bool) error {
	for _, w := range ws {
		if w.field == schema.ScopeField {
			if err := r.checkScope(ctx, w.value.AsString()); err != nil {
				return err
			}
		}
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	st, err := t.get(id)
	if err != nil {
		return err
	}
	switch {
	case st == nil && !create:
		return &NotFoundError{Table: table, ID: id.String()}
	case st != nil && st.table != table:
		return &NotFoundError{Table: table, ID: id.String()}
	case st != nil && create:
		return nil // added by the same save before
	case st == nil:
		st = newRowState(table, id, "")
	case !create && st.deleted() && !slices.ContainsFunc(ws, func(w fieldWrite) bool { return w.field == syncproto.TombstoneField }):
		// Edits go to live rows: an edit that reaches a deleted row was
		// made before its author knew of the delete, which is how the
		// deleting replica tells a conflict (hidden.go).
		return &DeletedError{Table: table, ID: id.String()}
	}
	if _, err := r.writeFields(t, st, ws); err != nil {
		return err
	}
	return t.commit()
}

// writeFields stamps, queues and installs the writes on st, then saves it.
// It returns the dots it made.
func (r *Replica) writeFields(t *txn, st *rowState, ws []fieldWrite) ([]syncproto.Dot, error) {
	if err := t.refreshID(); err != nil { // another process may have forked (fork.go)
		return nil, err
	}
	seq64, err := t.metaInt("seq")
	if err != nil {
		return nil, err
	}
	seq := uint64(seq64)
	last, err := t.metaInt("clock_last")
	if err != nil {
		return nil, err
	}
	// Another process may have synced since this one set its clock (the
	// app runs while the CLI syncs): stamp with the offset it measured.
	off, err := t.metaInt("offset_ms")
	if err != nil {
		return nil, err
	}
	if d := time.Duration(off) * time.Millisecond; d != r.clk().Offset() {
		r.setClock(d, r.clk().Last())
	}
	// The clock's set-back as kept (another process may have synced since,
	// or seen it), and kept with this write when it is seen now.
	wall, err := t.metaInt("offset_wall_ms")
	if err != nil {
		return nil, err
	}
	r.measuredWall.Store(wall)
	if err := t.keepClockSetBack(seq64); err != nil {
		return nil, err
	}
	r.clk().Restore(syncproto.HLC(last)) // another process may have written
	// The scope of every change is the row's hamlet after this write.
	scope := st.scope
	for _, w := range ws {
		if w.field == schema.ScopeField {
			scope = w.value.AsString()
		}
	}
	if scope == "" {
		return nil, &schema.ValidationError{Table: st.table, Field: schema.ScopeField, Code: schema.CodeRequired}
	}
	st.scope = scope
	if err := r.noteWrittenIn(t, scope); err != nil {
		return nil, fmt.Errorf("note hamlet %s written in: %w", scope, err)
	}
	if err := t.noteFiled(st, ws); err != nil {
		return nil, fmt.Errorf("note where the household of %s %s was: %w", st.table, st.idText(), err)
	}
	now := r.now().UnixMilli()
	// The row's refused changes: a write over one is based on what it
	// overwrote (refusedChanges.through), and a write to a field fixes its
	// field's (below).
	refused, err := t.refusedOf(st.id)
	if err != nil {
		return nil, err
	}
	var dots []syncproto.Dot
	for _, w := range ws {
		cur := st.cur[w.field]
		if cur != nil && cur.Value == w.value && !w.force {
			continue
		}
		c := syncproto.Change{Table: st.table, Row: st.id, Field: w.field, Value: w.value, Scope: scope}
		seq++
		ver := syncproto.Stamp(&c, r.clk(), syncproto.Dot{Replica: r.id, Seq: seq}, cur)
		if cur != nil {
			c.Base = refused.through(c.Field, r.id, c.Base)
			ver.Base = c.Base
		}
		kind, val := valueArgs(c.Value)
		var baseHLC int64 // its floor if a sync restamps it (clock.go)
		if cur != nil {
			baseHLC = int64(cur.HLC)
		}
		if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, base_hlc, scope, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			int64(seq), c.Table, c.Row.String(), c.Field, kind, val, int64(c.HLC), replicaBytes(c.Base), int64(c.Base.Seq), baseHLC, scope, now); err != nil {
			return nil, err
		}
		// A new write to a field fixes whatever the server refused for it.
		if err := t.exec(`DELETE FROM outbox WHERE row_id = ? AND field = ? AND state = ?`, c.Row.String(), c.Field, outboxRejected); err != nil {
			return nil, err
		}
		if err := t.rebaseOffRefused(st.id, st, c.Field, refused[c.Field]); err != nil {
			return nil, err
		}
		if cur != nil {
			// Writing a conflict's lost value again restores it, here as on
			// every replica this write reaches (hidden.go).
			if _, err := t.restoreConflicts(&c, now); err != nil {
				return nil, err
			}
		}
		st.install(w.field, ver)
		st.forgetOwn(w.field, r.id, refused[w.field])
		dots = append(dots, c.Dot)
	}
	if len(dots) == 0 {
		return nil, nil
	}
	if err := t.setMeta("seq", int64(seq)); err != nil {
		return nil, err
	}
	if err := t.setMeta("clock_last", int64(r.clk().Last())); err != nil {
		return nil, err
	}
	return dots, t.save(st)
}

// refusedChanges are a row's refused changes (its rejected list), by
// field, each refused change's base by its sequence.
type refusedChanges map[string]map[uint64]syncproto.Dot

// refusedOf reads id's refused changes.
func (t *txn) refusedOf(id syncproto.RowID) (refusedChanges, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, seq, base_replica, base_seq FROM outbox WHERE row_id = ? AND state = ?`, id.String(), outboxRejected)
	if err != nil {
		return nil, fmt.Errorf("read the refused changes of row %s: %w", id, err)
	}
	defer rows.Close()
	var out refusedChanges
	for rows.Next() {
		var field string
		var seq, baseSeq int64
		var baseRep []byte
		if err := rows.Scan(&field, &seq, &baseRep, &baseSeq); err != nil {
			return nil, err
		}
		if out == nil {
			out = refusedChanges{}
		}
		if out[field] == nil {
			out[field] = map[uint64]syncproto.Dot{}
		}
		out[field][uint64(seq)] = dotFrom(baseRep, baseSeq)
	}
	return out, rows.Err()
}

// through is the version a write to field over base overwrites: base
// itself, or, when base is a change of replica self the server refused,
// the version that change was written over, followed through refusals in
// a row. The server never held a refused change: a write naming one as
// its base reads, to the server, as made without sight of the value its
// writer had seen, a conflict between the volunteer's own versions. The
// server follows a replica's refusals itself (PROTOCOL §7.4 rule 6), but
// not once the replica has a new id after a fork, where a refused change
// keeps its number under the new id and the server holds its refusal
// under the old one (issue 17, wide seed 774991).
func (rc refusedChanges) through(field string, self syncproto.ReplicaID, base syncproto.Dot) syncproto.Dot {
	return throughRefused(rc[field], self, base)
}

// rebaseOffRefused points every base of a row's field that names one of
// gone, refused changes leaving the outbox (discarded, or fixed by a new
// write), at what that change was written over (through the others of
// gone), in the field's changes the server holds no digest of (never
// sent: above sent_seq; or answered replica_forked) and their versions in
// st. A change typed over a refused one before its refusal arrived names
// it; the server follows its stored refusal of its own replica to the
// value beneath, but not across a fork, where that change is renumbered
// under a new id while the discarded one is not: judged concurrent with
// the value it overwrote knowingly, it put a conflict no one had in every
// teammate's list (review 33, S1). A change the server may hold keeps its
// base: pushed again with another, its digest would differ and the server
// would take this file for a copy (server/fork.go). A refused change is
// never pushed again (a resend is a new write) and is rebased too: kept
// naming a discarded move, a later move refused with it found nothing to
// go back to when discarded in turn, and a household the server never
// took left the laptop whole (review 40c, D2).
func (t *txn) rebaseOffRefused(row syncproto.RowID, st *rowState, field string, gone map[uint64]syncproto.Dot) error {
	if len(gone) == 0 {
		return nil
	}
	sent, err := t.metaInt("sent_seq")
	if err != nil {
		return err
	}
	self := t.r.id
	rebased := map[uint64]bool{}
	for _, seq := range slices.Sorted(maps.Keys(gone)) {
		to := throughRefused(gone, self, gone[seq])
		ids, err := t.seqs(`UPDATE outbox SET base_replica = ?, base_seq = ? WHERE row_id = ? AND field = ? AND base_replica = ? AND base_seq = ?
			AND (state = ? AND seq > ? OR code = ? OR state = ?) RETURNING seq`,
			replicaBytes(to), int64(to.Seq), row.String(), field, self[:], int64(seq),
			outboxPending, sent, string(syncproto.CodeReplicaForked), outboxRejected)
		if err != nil {
			return fmt.Errorf("rebase the changes written over refused change %d: %w", seq, err)
		}
		for _, id := range ids {
			rebased[id] = true
		}
	}
	if st == nil || len(rebased) == 0 {
		return nil
	}
	rebase := func(v *syncproto.Version) {
		if v.Dot.Replica == self && rebased[v.Dot.Seq] {
			v.Base = throughRefused(gone, self, v.Base)
		}
	}
	if v := st.cur[field]; v != nil {
		rebase(v)
	}
	for i := range st.hist {
		if st.hist[i].Field == field {
			rebase(&st.hist[i].Ver)
		}
	}
	return nil
}

// seqs runs q, whose rows are one sequence each.
func (t *txn) seqs(q string, args ...any) ([]uint64, error) {
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, uint64(n))
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// throughRefused follows base through refused changes of replica self
// whose bases, by sequence, refused holds.
func throughRefused(refused map[uint64]syncproto.Dot, self syncproto.ReplicaID, base syncproto.Dot) syncproto.Dot {
	for hop := 0; hop < syncproto.MaxRefusalHops && base.Replica == self; hop++ {
		b, ok := refused[base.Seq]
		if !ok {
			break
		}
		base = b
	}
	return base
}

// household loads a live household (for a child record's hamlet).
func (r *Replica) household(ctx context.Context, id syncproto.RowID) (*rowState, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	st, err := t.get(id)
	if err != nil {
		return nil, err
	}
	if st == nil || st.table != "households" || st.deleted() {
		return nil, &NotFoundError{Table: "households", ID: id.String()}
	}
	return st, nil
}

// AddHousehold registers a household. fs must hold hamlet_code and
// head_name; registered_on defaults to today and active to true.
func (r *Replica) AddHousehold(ctx context.Context, fs Fields, opts ...AddOption) (syncproto.RowID, error) {
	fs = withDefaults(fs, Fields{"registered_on": r.today(), "active": true})
	return r.Insert(ctx, "households", fs, opts...)
}

// EditHousehold writes the given fields of a household.
func (r *Replica) EditHousehold(ctx context.Context, id syncproto.RowID, fs Fields) error {
	return r.Update(ctx, "households", id, fs)
}

// child adds a record that belongs to a household: household_id, its hamlet
// and the volunteer (the enrolled member) are filled in.
func (r *Replica) child(ctx context.Context, table string, household syncproto.RowID, fs Fields, defaults Fields, opts ...AddOption) (syncproto.RowID, error) {
	h, err := r.household(ctx, household)
	if err != nil {
		return uuid.Nil, err
	}
	d := Fields{"household_id": household.String(), schema.ScopeField: h.scope}
	if e, err := r.Enrollment(ctx); err != nil {
		return uuid.Nil, err
	} else if e != nil && e.MemberID != "" {
		d["volunteer_id"] = e.MemberID
	} else if fs["volunteer_id"] == nil {
		return uuid.Nil, r.NotEnrolled(ctx) // the record needs to say who did it
	}
	if err := keepDerived(table, fs, d, "household_id", schema.ScopeField, "volunteer_id"); err != nil {
		return uuid.Nil, err
	}
	for k, v := range defaults {
		d[k] = v
	}
	return r.Insert(ctx, table, withDefaults(fs, d), opts...)
}

// AddVisit records a door-to-door visit (visited_on defaults to today).
func (r *Replica) AddVisit(ctx context.Context, household syncproto.RowID, fs Fields) (syncproto.RowID, error) {
	return r.child(ctx, "visits", household, fs, Fields{"visited_on": r.today()})
}

// AddTutoring records a skill taught (taught_on defaults to today).
func (r *Replica) AddTutoring(ctx context.Context, household syncproto.RowID, fs Fields) (syncproto.RowID, error) {
	if s, ok := fs["skill"].(string); ok {
		if _, known := schema.SkillByCode(s); !known {
			return uuid.Nil, &schema.ValidationError{Table: "tutoring_records", Field: "skill", Code: schema.CodeUnknownEnum}
		}
	}
	return r.child(ctx, "tutoring_records", household, fs, Fields{"taught_on": r.today()})
}

// AddReport files a field report for a resident. household may be uuid.Nil
// for a report about a place; then fs must hold hamlet_code.
func (r *Replica) AddReport(ctx context.Context, household syncproto.RowID, fs Fields, opts ...AddOption) (syncproto.RowID, error) {
	d := Fields{"status": string(schema.StatusSubmitted), "submitted_at": r.Now().UnixMilli()}
	if household != uuid.Nil {
		return r.child(ctx, "field_reports", household, fs, d, opts...)
	}
	e, err := r.Enrollment(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if e != nil && e.MemberID != "" {
		d["volunteer_id"] = e.MemberID
	}
	if err := keepDerived("field_reports", fs, d, "volunteer_id"); err != nil {
		return uuid.Nil, err
	}
	return r.Insert(ctx, "field_reports", withDefaults(fs, d), opts...)
}

// keepDerived refuses fs giving one of keys a value other than the one
// derived for it in d (from the household chosen and the enrolled member):
// a different hamlet, household or volunteer would file the record under
// the wrong one, quietly. The message names the field, not an option: the
// CLI and the app both come here.
func keepDerived(table string, fs, d Fields, keys ...string) error {
	t, _ := schema.LookupTable(table)
	for _, k := range keys {
		v, ok := fs[k]
		if !ok || d[k] == nil {
			continue
		}
		// The same id in capitals is the same id: compared as stored.
		same := fmt.Sprint(v) == fmt.Sprint(d[k])
		if t != nil {
			same = t.SameValue(k, v, d[k])
		}
		if !same {
			whyVI, whyEN := "nó lấy theo hộ đã chọn. Hãy bỏ giá trị đó; muốn ghi cho hộ khác, hãy chọn đúng hộ đó.",
				"it follows the household chosen. Leave it out; for another household, choose that household."
			if k == "volunteer_id" {
				whyVI, whyEN = "bản ghi mang tên người đã đăng ký máy này. Hãy bỏ giá trị đó.",
					"the record bears the name of whoever enrolled this laptop. Leave it out."
			}
			return &InputError{
				VI:     fmt.Sprintf("Không đặt được %s (%s) cho bản ghi này: %s", schema.FieldLabel(k, "vi"), k, whyVI),
				EN:     fmt.Sprintf("%s (%s) cannot be given for this record: %s", schema.FieldLabel(k, "en"), k, whyEN),
				Detail: fmt.Sprintf("%s.%s: given a value other than the one derived", table, k),
			}
		}
	}
	return nil
}

func (r *Replica) today() string {
	return schema.Today(r.Now())
}

func withDefaults(fs, d Fields) Fields {
	out := make(Fields, len(fs)+len(d))
	for k, v := range d {
		out[k] = v
	}
	for k, v := range fs {
		out[k] = v
	}
	return out
}

// refuseSame is UnlessSame's check of the household ws would add as id.
// The household id itself is no other: the same form sent twice adds it
// once (WithID).
func (r *Replica) refuseSame(ctx context.Context, id syncproto.RowID, ws []fieldWrite, confirmed string) error {
	want, hamlet := householdKeyOf(ws), writtenText(ws, schema.ScopeField)
	sum := sha256.Sum256([]byte(want))
	key := hex.EncodeToString(sum[:12])
	if confirmed != "" && confirmed == key {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT id, coalesce(head_name, ''), coalesce(phone, ''), coalesce(address, '') FROM households WHERE hamlet_code = ? AND _deleted = 0`, hamlet)
	if err != nil {
		return r.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var other, name, phone, addr string
		if err := rows.Scan(&other, &name, &phone, &addr); err != nil {
			return r.Classify(err)
		}
		if other != id.String() && householdKey(name, hamlet, phone, addr) == want {
			oid, err := uuid.Parse(other)
			if err != nil {
				return fmt.Errorf("household id %q: %w", other, err)
			}
			return &SameHouseholdError{ID: oid, Head: name, Key: key}
		}
	}
	return r.Classify(rows.Err())
}

// SameHouseholdError: a household with the same head's name, hamlet,
// phone and address is here already (UnlessSame). Nothing was saved.
type SameHouseholdError struct {
	ID   syncproto.RowID
	Head string
	Key  string // what SameConfirmed takes: the household as entered, not its text
}

func (e *SameHouseholdError) Error() string {
	return fmt.Sprintf("agent: the same household is here already (%s)", e.ID)
}

func (e *SameHouseholdError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Máy này đã có hộ %s cùng ấp/khóm, cùng số điện thoại và địa chỉ (mã %s). Hộ vừa nhập CHƯA được lưu. Nếu đúng là hộ đó, hãy mở hộ đã có để sửa hoặc ghi thêm; nếu là một hộ khác, hãy lưu lại lần nữa.", e.Head, e.ID),
		fmt.Sprintf("This laptop already has household %s in the same hamlet, with the same phone and address (ID %s). The household just entered was NOT saved. If it is that one, open it to edit or add to it; if it is another household, save again.", e.Head, e.ID))
}

// keepClockSetBack keeps in the file a set-back of the clock seen now, or
// by this process since the last measurement (ClockSetBack), with the
// writes made before it (metaClockSetBack, backMark).
func (t *txn) keepClockSetBack(seq int64) error {
	r := t.r
	back, err := t.metaInt(metaClockSetBack)
	if err != nil {
		return err
	}
	r.clockBack.Store(back != 0)
	if back == 0 && r.ClockSetBack() {
		if err := t.setMeta(metaClockSetBack, r.backMark(seq)); err != nil {
			return err
		}
		r.clockBack.Store(true)
	}
	return nil
}

package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// pusher is who pushes: the device and its replica and scope.
type pusher struct {
	deviceID string
	replica  syncproto.ReplicaID
	scope    map[string]bool
	schema   int    // the agent's data schema; 0 when not a session (all fields)
	team     string // the device's team, for its scope history (scope.go)
	// writer is whose rules apply to the fields (schema.Field.WrittenBy): a
	// device is a volunteer's, an import a coordinator's.
	writer schema.Writer
}

// pushOutcome is what one applied batch did, for the Ack, metrics and Notify.
type pushOutcome struct {
	results    []syncproto.Result
	applied    int
	superseded int
	duplicate  int
	refused    int
	conflicts  int
	restamped  int
	forked     int             // changes not taken: another copy of the replica pushed first (fork.go)
	forkedAt   uint64          // the first of them
	scopes     map[string]bool // scopes whose log grew
	head       uint64
}

// errSequenceGap aborts a batch whose changes skip origin sequences.
type gapError struct{ have, got uint64 }

func (e *gapError) Error() string {
	return fmt.Sprintf("origin sequence %d follows %d: changes in between are missing", e.got, e.have)
}

// checked is a change after the checks that need no storage.
type checked struct {
	code   syncproto.Code // non-empty: refuse with this code
	reason string
}

// precheck validates a change against the schema: pure, outside the
// transaction. A value must arrive already normalised. The rules that need
// the row as a whole (a new row's required fields, who may write a field)
// are judged per row (planRows).
func precheck(c *syncproto.Change, today string) checked {
	t, ok := schema.LookupTable(c.Table)
	if !ok {
		return checked{syncproto.CodeUnknownTable, fmt.Sprintf("the server has no table %q", c.Table)}
	}
	if _, ok := t.Field(c.Field); !ok {
		return checked{syncproto.CodeUnknownField, fmt.Sprintf("table %s has no field %q", c.Table, c.Field)}
	}
	if c.Row == (syncproto.RowID{}) {
		return checked{syncproto.CodeInvalidValue, "the nil UUID is not a row id"}
	}
	norm, err := t.CheckWrite(schema.Write{Fields: map[string]any{c.Field: c.Value.Any()}, Today: today})
	if err != nil {
		return refusalOf(c, err)
	}
	v, err := syncproto.ValueOf(norm[c.Field])
	if err != nil {
		return checked{syncproto.CodeInvalidValue, "invalid value"}
	}
	if v.Kind() != c.Value.Kind() && !c.Value.IsNull() && !v.IsNull() {
		// A bool sent as 0/1, a time as a float: the schema reads it, but
		// every replica must hold the same value under the same dot.
		return checked{syncproto.CodeInvalidValue, wrongType(c.Table, c.Field, c.Value.Kind())}
	}
	// Rewriting the value here would leave the sender holding a different
	// value under the same dot than every other replica: refuse instead, so
	// the volunteer sees it in 'rejected'. Hamlet's agent normalises with the
	// same schema before it writes, so this only catches foreign clients.
	if v != c.Value {
		return checked{syncproto.CodeInvalidValue, "the value is not in canonical form: normalise it with the schema (NFC text, trimmed, phone as 0XXXXXXXXX) before writing"}
	}
	return checked{}
}

var kindNames = [...]string{syncproto.KindNull: "null", syncproto.KindBool: "bool", syncproto.KindInt: "int",
	syncproto.KindFloat: "float", syncproto.KindString: "string"}

func wrongType(table, field string, got syncproto.Kind) string {
	name := "unknown"
	if int(got) < len(kindNames) {
		name = kindNames[got]
	}
	msg := (&schema.ValidationError{Table: table, Field: field, Code: schema.CodeWrongType}).Message("vi")
	return fmt.Sprintf("%s: %s.%s wants %s, got %s: %s", schema.CodeWrongType, table, field, schema.ExpectedType(table, field), name, msg)
}

// refusalOf turns a schema verdict on a change into its refusal. The
// reason is built from the code and the field's rules only: no value leaks.
func refusalOf(c *syncproto.Change, err error) checked {
	var ve *schema.ValidationError
	if !errors.As(err, &ve) {
		return checked{syncproto.CodeInvalidValue, "invalid value"}
	}
	switch ve.Code {
	case schema.CodeWrongType:
		return checked{syncproto.CodeInvalidValue, wrongType(c.Table, ve.Field, c.Value.Kind())}
	case schema.CodeRequired:
		if ve.Field != c.Field { // judged on the row: the batch lacks a field
			return checked{syncproto.CodeInvalidValue, fmt.Sprintf("%s: a new %s row must carry %s in the same push: %s",
				ve.Code, ve.Table, ve.Field, ve.Message("vi"))}
		}
	case schema.CodeReadOnly:
		return checked{syncproto.CodeInvalidValue, fmt.Sprintf("%s: %s.%s is written by coordinators only (the report workflow): %s",
			ve.Code, ve.Table, ve.Field, ve.Message("vi"))}
	}
	return checked{syncproto.CodeInvalidValue, ve.Code + ": " + ve.Message("vi")}
}

// rowPlan is what one batch writes to one row, judged outside the
// transaction by the same schema.Table.CheckWrite the agent runs: the
// verdict on the row if it turns out to be new, and on each change if it
// exists. Whether it is new is known only in the transaction (judgeRows).
type rowPlan struct {
	idx    []int  // the batch's own changes to the row, in order
	hamlet string // hamlet_code as the batch leaves it: a new row's hamlet
	parent int    // the change that names the row's household, or -1
	create checked
	edit   map[int]checked // changes the writer may not make to an existing row
}

// planRows groups a batch's own changes by row and judges each group as
// one write. A new row stands or falls whole: it must arrive in one push
// (the agent never splits a row's write across pushes), and a change of it
// refused alone (precheck) refuses the rest with the same reason.
func planRows(p pusher, changes []syncproto.Change, pre []checked, today string, only func(i int) bool) map[RowRef]*rowPlan {
	plans := map[RowRef]*rowPlan{}
	for i := range changes {
		c := &changes[i]
		if c.Dot.Replica != p.replica || (only != nil && !only(i)) {
			continue
		}
		if _, ok := schema.LookupTable(c.Table); !ok {
			continue
		}
		k := RowRef{c.Table, c.Row}
		pl := plans[k]
		if pl == nil {
			pl = &rowPlan{parent: -1}
			plans[k] = pl
		}
		pl.idx = append(pl.idx, i)
	}
	for k, pl := range plans {
		t, _ := schema.LookupTable(k.Table)
		fields := make(map[string]any, len(pl.idx))
		for _, i := range pl.idx {
			c := &changes[i]
			if pre[i].code != "" {
				if pl.create.code == "" {
					pl.create = pre[i]
				}
				continue
			}
			fields[c.Field] = c.Value.Any()
			switch {
			case c.Field == schema.ScopeField:
				pl.hamlet = c.Value.AsString()
			case c.Field == "household_id" && k.Table != "households":
				pl.parent = i
			}
		}
		if pl.create.code == "" {
			if _, err := t.CheckWrite(schema.Write{Create: true, Fields: fields, Writer: p.writer, Today: today}); err != nil {
				pl.create = refusalOf(&changes[pl.idx[0]], err)
				var ve *schema.ValidationError
				if errors.As(err, &ve) && ve.Field != "" {
					for _, i := range pl.idx {
						if changes[i].Field == ve.Field {
							pl.create = refusalOf(&changes[i], err)
							break
						}
					}
				}
			}
		}
		if p.writer == 0 {
			continue
		}
		for _, i := range pl.idx {
			c := &changes[i]
			if f, _ := t.Field(c.Field); pre[i].code != "" || f.WrittenBy == 0 {
				continue // precheck ran the same check on it
			}
			if _, err := t.CheckWrite(schema.Write{Fields: map[string]any{c.Field: c.Value.Any()}, Writer: p.writer, Today: today}); err != nil {
				if pl.edit == nil {
					pl.edit = map[int]checked{}
				}
				pl.edit[i] = refusalOf(c, err)
			}
		}
	}
	return plans
}

// rowCache holds one row's state and versions during a batch.
type rowCache struct {
	st     RowState
	exists bool                       // saved in the store
	dirty  bool                       // st changed since loaded or saved
	fields map[string]syncproto.Value // installed since, to materialize
	newIn  *batch                     // the batch that created the row
}

type batch struct {
	s    *Server
	tx   Tx
	p    pusher
	now  time.Time
	rows map[RowRef]*rowCache
	out  *pushOutcome
	// server-authored writes (children moved with their household)
	serverSeq       uint64
	serverSeqLoaded bool
	// scope history read for out-of-scope changes (scope.go)
	hist *scopeHistory
}

func (b *batch) row(t string, id syncproto.RowID) (*rowCache, error) {
	k := RowRef{t, id}
	if rc, ok := b.rows[k]; ok {
		return rc, nil
	}
	st, ok, err := b.tx.Row(t, id)
	if err != nil {
		return nil, err
	}
	rc := &rowCache{st: st, exists: ok}
	if rc.st.Versions == nil {
		rc.st.Versions = map[string]syncproto.Version{}
	}
	b.rows[k] = rc
	return rc, nil
}

// prefetch loads, in a few statements, the state of every row a group's
// batches touch, so apply never waits on one SELECT per row. It loads rows
// of changes that turn out to be duplicates too: they are only cached.
func prefetch(tx Tx, group []*writeReq, rows map[RowRef]*rowCache) error {
	var refs []RowRef
	for _, r := range group {
		for i := range r.changes {
			c := &r.changes[i]
			if c.Dot.Replica != r.p.replica || r.pre[i].code != "" {
				continue
			}
			k := RowRef{c.Table, c.Row}
			if c.Field == "household_id" && c.Table != "households" {
				// The household a new row names is judged too (judgeRows).
				if id, err := uuid.Parse(c.Value.AsString()); err == nil {
					if p := (RowRef{"households", id}); !has(rows, p) {
						rows[p] = nil
						refs = append(refs, p)
					}
				}
			}
			if has(rows, k) {
				continue
			}
			rows[k] = nil // seen
			refs = append(refs, k)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	states, err := tx.LoadRows(refs)
	if err != nil {
		return err
	}
	for _, k := range refs {
		st, ok := states[k]
		if st.Versions == nil {
			st.Versions = map[string]syncproto.Version{}
		}
		rows[k] = &rowCache{st: st, exists: ok}
	}
	return nil
}

func has(rows map[RowRef]*rowCache, k RowRef) bool { _, ok := rows[k]; return ok }

func (b *batch) appendEntry(e *LogEntry) error {
	if err := b.tx.Append(e); err != nil {
		return err
	}
	b.out.scopes[e.Change.Scope] = true
	if e.Seq > b.out.head {
		b.out.head = e.Seq
	}
	return nil
}

// checkSequence finds a gap in the batch's own origin sequences before
// anything is written, so a rejected batch leaves no trace.
func checkSequence(tx Tx, p pusher, changes []syncproto.Change) (uint64, error) {
	maxSeq, err := tx.OriginSeq(p.replica)
	if err != nil {
		return 0, err
	}
	m := maxSeq
	for i := range changes {
		c := &changes[i]
		if c.Dot.Replica != p.replica || c.Dot.Seq <= m {
			continue
		}
		if c.Dot.Seq != m+1 {
			return 0, &gapError{have: m, got: c.Dot.Seq}
		}
		m = c.Dot.Seq
	}
	return maxSeq, nil
}

// applyBatch applies one batch of a group; rows is the group's row cache,
// which the caller saves (flush) after the last batch.
func (s *Server) applyBatch(tx Tx, r *writeReq, rows map[RowRef]*rowCache) (*pushOutcome, error) {
	p, changes, pre := r.p, r.changes, r.pre
	maxSeq, err := checkSequence(tx, p, changes)
	if err != nil {
		return nil, err
	}
	out := &pushOutcome{results: make([]syncproto.Result, len(changes)), scopes: map[string]bool{}}
	b := &batch{s: s, tx: tx, p: p, now: s.now(), rows: rows, out: out}
	verdicts, hamlets, err := b.judgeRows(r, maxSeq)
	if err != nil {
		return nil, err
	}
	start := maxSeq
	var refusals map[uint64]Refused // of this batch's re-pushed changes, read at the first
	fk := newForkCheck(tx, p.replica, maxSeq, changes)
	for i := range changes {
		c := &changes[i]
		res := &out.results[i]
		if c.Dot.Replica != p.replica {
			if *res, err = b.refuse(c, syncproto.CodeUnauthorized, "a device may push only changes made on its own replica"); err != nil {
				return nil, err
			}
			continue
		}
		if fk.forked() {
			*res = fk.result()
			out.forked++
			continue
		}
		if c.Dot.Seq <= maxSeq {
			if forked, err := fk.repushed(c); err != nil {
				return nil, err
			} else if forked {
				*res, out.forkedAt = fk.result(), c.Dot.Seq
				out.forked++
				continue
			}
			// Pushed again, its Ack lost: a change refused then is refused
			// again, with its reason, so the client cannot lose it (§7.4).
			if refusals == nil {
				if refusals, err = tx.Refusals(p.replica, 1, start); err != nil {
					return nil, err
				}
			}
			if rf, ok := refusals[c.Dot.Seq]; ok {
				*res = syncproto.Result{Status: syncproto.ResultRefused, Code: rf.Code, Reason: rf.Reason}
			} else {
				res.Status = syncproto.ResultDuplicate
			}
			out.duplicate++
			continue
		}
		maxSeq = c.Dot.Seq
		fk.take(c)
		v := pre[i]
		if v.code == "" {
			v = verdicts[i]
		}
		if v.code != "" {
			if *res, err = b.refuse(c, v.code, v.reason); err != nil {
				return nil, err
			}
			continue
		}
		if *res, err = b.apply(c, hamlets[RowRef{c.Table, c.Row}]); err != nil {
			return nil, err
		}
	}
	if maxSeq != start {
		if err := tx.SetOriginSeq(p.replica, maxSeq); err != nil {
			return nil, err
		}
	}
	if err := fk.save(); err != nil {
		return nil, err
	}
	return out, nil
}

// judgeRows applies the batch's row plans now that the store says which
// rows are new: a new row's changes all stand or fall together, and it
// takes the hamlet the batch gives it (never the label the changes carry);
// an existing row's changes are judged one by one. verdicts holds the
// refusals by change index; hamlets the hamlet of each new row.
func (b *batch) judgeRows(r *writeReq, maxSeq uint64) ([]checked, map[RowRef]string, error) {
	verdicts := make([]checked, len(r.changes))
	hamlets := map[RowRef]string{}
	for ref, pl := range r.plans {
		rc, err := b.row(ref.Table, ref.Row)
		if err != nil {
			return nil, nil, err
		}
		created := !rc.exists && rc.st.Scope == ""
		if created && r.changes[pl.idx[0]].Dot.Seq <= maxSeq {
			// Pushed again after a lost Ack, and the row was not created
			// then: judge what is new in this push on its own.
			again := planRows(r.p, r.changes, r.pre, r.today, func(i int) bool {
				return r.changes[i].Dot.Seq > maxSeq && RowRef{r.changes[i].Table, r.changes[i].Row} == ref
			})
			if pl = again[ref]; pl == nil {
				continue
			}
		}
		var parent checked
		if pl.parent >= 0 {
			c := &r.changes[pl.parent]
			if id, err := uuid.Parse(c.Value.AsString()); err == nil {
				if parent, err = b.parentOutOfScope(c, id); err != nil {
					return nil, nil, err
				}
			}
		}
		if !created {
			for i, v := range pl.edit {
				verdicts[i] = v
			}
			if parent.code != "" {
				verdicts[pl.parent] = parent
			}
			continue
		}
		if pl.create.code == "" {
			pl.create = parent
		}
		if pl.create.code != "" {
			for _, i := range pl.idx {
				verdicts[i] = pl.create
			}
			continue
		}
		hamlets[ref] = pl.hamlet
	}
	return verdicts, hamlets, nil
}

func (b *batch) refuse(c *syncproto.Change, code syncproto.Code, reason string) (syncproto.Result, error) {
	b.out.refused++
	if err := b.tx.AddRefused(Refused{Change: *c, DeviceID: b.p.deviceID, Code: code, Reason: reason, At: b.now}); err != nil {
		return syncproto.Result{}, err
	}
	return syncproto.Result{Status: syncproto.ResultRefused, Code: code, Reason: reason}, nil
}

// apply decides one change with syncproto.Resolve and persists the decision.
// hamlet is the hamlet the batch gives the row if it is new (judgeRows).
func (b *batch) apply(c *syncproto.Change, hamlet string) (syncproto.Result, error) {
	rc, err := b.row(c.Table, c.Row)
	if err != nil {
		return syncproto.Result{}, err
	}
	scope := c.Scope
	if rc.exists || rc.st.Scope != "" {
		scope = rc.st.Scope
	} else if hamlet != "" {
		scope = hamlet // where its hamlet_code puts it, whatever the label says
	}
	// A write is judged by the row's hamlet after it: a household whose
	// hamlet_code changes is judged by the new hamlet (the receiving team
	// may take it in), every other write by the row's hamlet, and a new
	// hamlet_code must be in scope too.
	to := ""
	if c.Field == schema.ScopeField && !c.Value.IsNull() && c.Value.AsString() != scope {
		to = c.Value.AsString()
	}
	if !b.p.scope[scope] && !(to != "" && c.Table == "households") {
		// Made while the row was in scope (before it moved or its hamlet
		// left the team)? Then it is applied; otherwise refused (scope.go).
		if ok, res, err := b.outOfScope(c, rc, scope); !ok || err != nil {
			return res, err
		}
	}
	if to != "" && !b.p.scope[to] {
		if ok, res, err := b.movingOut(c, to); !ok || err != nil {
			return res, err
		}
	}
	if !rc.exists && rc.st.Scope == "" {
		rc.st.Scope, rc.dirty, rc.newIn = scope, true, b
	}
	var res syncproto.Result
	cur, has := rc.st.Versions[c.Field]
	var curp *syncproto.Version
	var floor syncproto.HLC
	if has {
		curp = &cur
		if c.Base == cur.Dot {
			floor = cur.HLC
		}
	}
	if h, restamped := b.s.clock.Admit(c.HLC, floor); restamped {
		b.s.log.Info("restamped a change beyond the skew bound", LogDevice, b.p.deviceID, LogTable, c.Table,
			LogField, c.Field, LogSeq, c.Dot.Seq, "claimed", c.HLC.String(), "restamped_to", h.String())
		c.HLC, res.HLC = h, h
		b.out.restamped++
	}
	o := syncproto.Resolve(curp, c)
	cf, conflicted := syncproto.ApplyOutcome(o, curp, c, func(v syncproto.Version) { rc.st.Versions[c.Field] = v })
	switch o {
	case syncproto.Duplicate:
		res.Status = syncproto.ResultDuplicate
		b.out.duplicate++
		return res, nil
	case syncproto.Stale:
		res.Status = syncproto.ResultSuperseded
		b.out.superseded++
	case syncproto.LoseToConcurrent:
		res.Status = syncproto.ResultSuperseded
		b.out.superseded++
	default:
		res.Status = syncproto.ResultApplied
		b.out.applied++
	}
	if conflicted {
		b.out.conflicts++
		cf.Scope = rc.st.Scope
		if err := b.tx.AddConflict(cf, b.now); err != nil {
			return res, err
		}
	}
	if !o.Installs() {
		e := LogEntry{Change: *c}
		e.Change.Scope = rc.st.Scope
		return res, b.appendEntry(&e)
	}
	return res, b.install(c, rc)
}

// install follows c, now the field's version (ApplyOutcome), into the row:
// its value to materialise, and what the field means for the row:
// tombstone, parent link, or a household moving to another hamlet.
func (b *batch) install(c *syncproto.Change, rc *rowCache) error {
	rc.dirty = true
	if rc.fields == nil {
		rc.fields = map[string]syncproto.Value{}
	}
	rc.fields[c.Field] = c.Value
	oldScope := rc.st.Scope
	moving := c.Table == "households" && c.Field == schema.ScopeField && !c.Value.IsNull() && c.Value.AsString() != oldScope
	if moving {
		rc.st.Scope, rc.dirty = c.Value.AsString(), true
	}
	e := LogEntry{Change: *c}
	e.Change.Scope = rc.st.Scope
	if err := b.appendEntry(&e); err != nil {
		return err
	}
	switch {
	case c.Field == schema.DeletedField:
		del := c.Value.AsBool()
		if del != rc.st.Deleted || del {
			rc.st.Deleted, rc.dirty = del, true
			rc.st.TombSeq = 0
			if del {
				rc.st.TombSeq = e.Seq
			}
		}
	case c.Field == "household_id" && c.Table != "households":
		var p syncproto.RowID
		if !c.Value.IsNull() {
			if u, err := uuid.Parse(c.Value.AsString()); err == nil {
				p = u
			}
		}
		if p != rc.st.Parent {
			rc.st.Parent, rc.dirty = p, true
		}
	}
	// A row an earlier batch of the group created was logged under its
	// old scope: it moves like a stored one.
	if moving && (rc.exists || rc.newIn != b) {
		if err := b.move(RowRef{c.Table, c.Row}, rc, oldScope, c.Field, c); err != nil {
			return err
		}
		// Children reads the store: save what the group holds first.
		if err := b.flush(); err != nil {
			return err
		}
		kids, err := b.tx.Children(c.Row)
		if err != nil {
			return err
		}
		for _, kid := range kids {
			kc, err := b.row(kid.Table, kid.Row)
			if err != nil {
				return err
			}
			if kc.st.Scope == rc.st.Scope {
				continue
			}
			old := kc.st.Scope
			kc.st.Scope, kc.dirty = rc.st.Scope, true
			// The server writes the child's hamlet_code as a replica of its
			// own, so every agent converges on the new value by the usual merge.
			if err := b.serverWrite(kid, kc, schema.ScopeField, syncproto.String(rc.st.Scope)); err != nil {
				return err
			}
			if err := b.move(kid, kc, old, schema.ScopeField, c); err != nil {
				return err
			}
		}
		b.s.log.Info("household moved between hamlets", LogRow, c.Row.String(), "from", oldScope, "to", rc.st.Scope, "children", len(kids))
	}
	return nil
}

// move re-emits a row's current versions under its new scope (except skip,
// already logged there) and files an eviction under the old scope; hc is
// the household's change that moved it (recorded as a ScopeMove).
func (b *batch) move(ref RowRef, rc *rowCache, oldScope, skip string, hc *syncproto.Change) error {
	for f, v := range rc.st.Versions {
		if f == skip {
			continue
		}
		e := LogEntry{Change: syncproto.Change{Table: ref.Table, Row: ref.Row, Field: f, Value: v.Value, HLC: v.HLC, Dot: v.Dot, Base: v.Base, Scope: rc.st.Scope}}
		if err := b.appendEntry(&e); err != nil {
			return err
		}
	}
	ev := LogEntry{Kind: EntryEviction, NewScope: rc.st.Scope, Change: syncproto.Change{Table: ref.Table, Row: ref.Row, Scope: oldScope}}
	if err := b.appendEntry(&ev); err != nil {
		return err
	}
	return b.recordMove(ref, hc.Row, oldScope, rc.st.Scope, hc.HLC, ev.Seq)
}

// serverWrite records a write authored by the server's own replica.
func (b *batch) serverWrite(ref RowRef, rc *rowCache, field string, v syncproto.Value) error {
	if !b.serverSeqLoaded {
		seq, err := b.tx.OriginSeq(b.s.id)
		if err != nil {
			return err
		}
		b.serverSeq, b.serverSeqLoaded = seq, true
	}
	b.serverSeq++
	c := syncproto.Change{Table: ref.Table, Row: ref.Row, Field: field, Value: v, Scope: rc.st.Scope}
	var curp *syncproto.Version
	if cur, ok := rc.st.Versions[field]; ok {
		curp = &cur
	}
	ver := syncproto.Stamp(&c, b.s.clock, syncproto.Dot{Replica: b.s.id, Seq: b.serverSeq}, curp)
	if err := b.tx.SetOriginSeq(b.s.id, b.serverSeq); err != nil {
		return err
	}
	rc.st.Versions[field] = ver
	rc.dirty = true
	if rc.fields == nil {
		rc.fields = map[string]syncproto.Value{}
	}
	rc.fields[field] = v
	e := LogEntry{Change: c}
	return b.appendEntry(&e)
}

// flush saves row states and materialises the installed fields, all rows
// of the cache in one SaveRows, and marks them saved.
func (b *batch) flush() error {
	saves := make([]RowSave, 0, len(b.rows))
	saved := make([]*rowCache, 0, len(b.rows))
	for ref, rc := range b.rows {
		if rc == nil {
			continue
		}
		var sv RowSave
		if rc.dirty || !rc.exists {
			if rc.st.Scope == "" {
				continue // only refused changes touched it
			}
			sv.State = &rc.st
		}
		if rc.dirty && len(rc.fields) > 0 {
			rc.fields[schema.ScopeField] = syncproto.String(rc.st.Scope)
		}
		if sv.State == nil && len(rc.fields) == 0 {
			continue
		}
		sv.Ref, sv.Fields = ref, rc.fields
		saves = append(saves, sv)
		saved = append(saved, rc)
	}
	if len(saves) == 0 {
		return nil
	}
	if err := b.tx.SaveRows(saves); err != nil {
		return err
	}
	for _, rc := range saved {
		rc.exists, rc.dirty, rc.fields = true, false, nil
	}
	return nil
}

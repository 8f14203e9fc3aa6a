package server

import (
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// What an applied change does to its row once it wins (install): its
// value materialised, the row's tombstone, parent or hamlet followed (a
// household's children and log entries move with it), writes of the
// server's own replica (serverWrite), and the row cache saved (flush).

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
	if moving {
		// The move itself goes to its author too, with the versions
		// move logs beside it (a device that dropped the row has neither).
		e.NewScope = rc.st.Scope
	} else if err := b.tombstoneFirst(RowRef{c.Table, c.Row}, rc, c.Field, true); err != nil {
		return err
	}
	b.ownBack(&e)
	if err := b.appendEntry(&e); err != nil {
		return err
	}
	logged := rc.logged
	rc.logged = true
	if c.Table != "households" && c.Field == schema.ScopeField && rc.st.Scope != "" && !c.Value.Equal(syncproto.String(rc.st.Scope)) {
		// A child row sits in its household's hamlet: a hamlet_code that
		// says otherwise (written before the household moved, and pushed
		// after, by a copy of a data folder pushing its history again)
		// is answered by the server writing the row's hamlet again, so
		// every replica converges on where the row is, as the server
		// holds it.
		if err := b.serverWrite(RowRef{c.Table, c.Row}, rc, schema.ScopeField, syncproto.String(rc.st.Scope)); err != nil {
			return err
		}
	}
	switch {
	case c.Field == schema.DeletedField:
		del := c.Value.AsBool()
		if !del && rc.st.Deleted && rc.exists {
			// A restore. The other replicas may have dropped the row
			// already: told that its tombstone was behind every active
			// device (Changes.Horizon), by a server whose collection had
			// not yet run when a device silent past the horizon came back
			// and restored it. The restore alone would bring them a row
			// with no fields: it comes with the row's versions, to every
			// device, as a move brings a row (issue 17, seeds 64255, 80611).
			if err := b.relog(RowRef{c.Table, c.Row}, rc, c.Field); err != nil {
				return err
			}
		}
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
	// old scope: it moves like a stored one. So does a row this batch
	// created and then moved (a household added and moved to another
	// hamlet before its laptop synced): its first entries went under the
	// hamlet it was created in, and a team that covers only the new one
	// would otherwise get the move and none of the fields.
	if moving && (rc.exists || rc.newIn != b || logged) {
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
// the household's change that moved it (recorded as a ScopeMove). The
// versions are marked as a move's (NewScope): they go to every device of
// the new scope, their authors too, so a row moved into a device's scope
// arrives whole even where the device dropped it, its own writes with it.
func (b *batch) move(ref RowRef, rc *rowCache, oldScope, skip string, hc *syncproto.Change) error {
	if err := b.relog(ref, rc, skip); err != nil {
		return err
	}
	ev := LogEntry{Kind: EntryEviction, NewScope: rc.st.Scope, Change: syncproto.Change{Table: ref.Table, Row: ref.Row, Scope: oldScope}}
	if err := b.appendEntry(&ev); err != nil {
		return err
	}
	return b.recordMove(ref, hc.Row, oldScope, rc.st.Scope, hc.HLC, ev.Seq)
}

// relog logs a row's current versions again (except skip, already logged
// in this push), under its scope and marked as a move's (NewScope): they go
// to every device of the scope, their authors too, so a device that holds
// none of the row gets it whole.
func (b *batch) relog(ref RowRef, rc *rowCache, skip string) error {
	// In field order, not the map's: the same push logs the same
	// entries in the same order (a simulation's seed replays exactly).
	for _, f := range slices.Sorted(maps.Keys(rc.st.Versions)) {
		v := rc.st.Versions[f]
		if f == skip {
			continue
		}
		e := LogEntry{Change: syncproto.Change{Table: ref.Table, Row: ref.Row, Field: f, Value: v.Value, HLC: v.HLC, Dot: v.Dot, Base: v.Base, Scope: rc.st.Scope}, NewScope: rc.st.Scope}
		if err := b.appendEntry(&e); err != nil {
			return err
		}
	}
	return nil
}

// tombstoneFirst logs a deleted row's tombstone again, marked as a move's
// (to every device of its hamlet, its author too), before a write to
// another of its fields: a replica may have dropped the row when the
// horizon passed the tombstone, before the server's collection took it,
// and a write made before the delete reached its laptop (pushed by a
// device back from silence) would reach that replica alone, a live row of
// one field. With the tombstone first it holds the row deleted, and the
// deleter sees the edit its delete hid (agent/hidden.go) as if it had kept it.
//
// A write to _deleted itself needs it only when it loses (installs is
// false): a losing restore (or the deleter's hidden-edit write, made to
// lose) would otherwise reach such a replica alone, a live row of no
// field; a winning one is the tombstone, or a restore that re-logs the
// row (install).
func (b *batch) tombstoneFirst(ref RowRef, rc *rowCache, field string, installs bool) error {
	if !rc.st.Deleted || field == schema.DeletedField && installs {
		return nil
	}
	v, ok := rc.st.Versions[schema.DeletedField]
	if !ok {
		return nil
	}
	e := LogEntry{Change: syncproto.Change{Table: ref.Table, Row: ref.Row, Field: schema.DeletedField, Value: v.Value, HLC: v.HLC, Dot: v.Dot, Base: v.Base, Scope: rc.st.Scope}, NewScope: rc.st.Scope}
	return b.appendEntry(&e)
}

// serverWrite records a write authored by the server's own replica, under
// its writer id (Server.writer: a restored server's sequence came back
// with the backup, and must not number new writes as lost ones).
func (b *batch) serverWrite(ref RowRef, rc *rowCache, field string, v syncproto.Value) error {
	if !b.serverSeqLoaded {
		seq, err := b.tx.OriginSeq(b.s.writer)
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
	ver := syncproto.Stamp(&c, b.s.clock, syncproto.Dot{Replica: b.s.writer, Seq: b.serverSeq}, curp)
	if err := b.tx.SetOriginSeq(b.s.writer, b.serverSeq); err != nil {
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

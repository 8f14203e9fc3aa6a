package syncproto

import (
	"bytes"
	"cmp"
	"slices"
)

// MemReplica is an in-memory replica: the executable model of the protocol.
// The property tests run many of them against each other; the SQLite replicas
// of the server and the agent must behave like it.
//
// Exchange between MemReplicas is by version vector (Missing, then Apply), so
// no replica is special: it is the peer-to-peer form of the protocol.
type MemReplica struct {
	id      ReplicaID
	clock   *Clock
	seq     uint64
	fields  map[FieldKey]*Version
	log     []Change
	vv      VersionVector
	lost    map[conflictID]Conflict
	resolve func(*Version, *Change) Outcome
}

type conflictID struct {
	key   FieldKey
	loser Dot
}

// NewMemReplica makes an empty replica.
func NewMemReplica(id ReplicaID, clock *Clock) *MemReplica {
	return &MemReplica{
		id: id, clock: clock,
		fields:  make(map[FieldKey]*Version),
		vv:      VersionVector{},
		lost:    make(map[conflictID]Conflict),
		resolve: Resolve,
	}
}

// ID is the replica's id.
func (r *MemReplica) ID() ReplicaID { return r.id }

// Write records a local write and returns the change it made. The write is
// based on the field's current version and stamped above it.
func (r *MemReplica) Write(table string, row RowID, field string, v Value, scope string) Change {
	k := FieldKey{Table: table, Row: row, Field: field}
	c := Change{Table: table, Row: row, Field: field, Value: v, Scope: scope}
	r.seq++
	ver := Stamp(&c, r.clock, Dot{Replica: r.id, Seq: r.seq}, r.fields[k])
	r.vv[r.id] = r.seq
	r.fields[k] = &ver
	r.log = append(r.log, c)
	return c
}

// Delete writes the tombstone field; Restore clears it.
func (r *MemReplica) Delete(table string, row RowID, scope string) Change {
	return r.Write(table, row, TombstoneField, Bool(true), scope)
}

// Restore undoes a delete by writing the tombstone field false.
func (r *MemReplica) Restore(table string, row RowID, scope string) Change {
	return r.Write(table, row, TombstoneField, Bool(false), scope)
}

// Missing returns, in this replica's log order, the changes a peer whose
// version vector is vv has not seen, at most limit of them (0: all).
func (r *MemReplica) Missing(vv VersionVector, limit int) []Change {
	var out []Change
	for i := range r.log {
		if !vv.Covers(r.log[i].Dot) {
			out = append(out, r.log[i])
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out
}

// Apply merges changes received from a peer. A change already seen is
// skipped; one that does not follow its origin's last seen sequence (a gap
// left by a lost message) is skipped too and will be sent again. It returns
// how many changes were new.
func (r *MemReplica) Apply(cs []Change) int {
	n := 0
	r.log = slices.Grow(r.log, len(cs))
	for i := range cs {
		c := &cs[i]
		if r.vv.Covers(c.Dot) || !r.vv.Next(c.Dot) {
			continue
		}
		_ = r.clock.Observe(c.HLC) // beyond the skew bound: stored, but our clock stays put
		k := c.Key()
		cur := r.fields[k]
		cf, conflicted := ApplyOutcome(r.resolve(cur, c), cur, c, func(v Version) {
			if cur != nil {
				*cur = v
			} else {
				r.fields[k] = &v
			}
		})
		if conflicted {
			r.lost[conflictID{key: k, loser: cf.Loser.Dot}] = cf
		}
		r.vv.Advance(c.Dot)
		r.log = append(r.log, *c)
		n++
	}
	return n
}

// VV is a copy of what the replica has seen.
func (r *MemReplica) VV() VersionVector { return r.vv.Clone() }

// Get returns the field's current version.
func (r *MemReplica) Get(table string, row RowID, field string) (Version, bool) {
	v := r.fields[FieldKey{Table: table, Row: row, Field: field}]
	if v == nil {
		return Version{}, false
	}
	return *v, true
}

// Deleted reports whether the row's tombstone is set.
func (r *MemReplica) Deleted(table string, row RowID) bool {
	v, ok := r.Get(table, row, TombstoneField)
	return ok && v.Value.AsBool()
}

// Snapshot copies every field's current version.
func (r *MemReplica) Snapshot() map[FieldKey]Version {
	m := make(map[FieldKey]Version, len(r.fields))
	for k, v := range r.fields {
		m[k] = *v
	}
	return m
}

// Conflicts lists the recorded losers, in a deterministic order.
func (r *MemReplica) Conflicts() []Conflict {
	out := make([]Conflict, 0, len(r.lost))
	for _, c := range r.lost {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Conflict) int {
		if c := bytes.Compare(a.Loser.Dot.Replica[:], b.Loser.Dot.Replica[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Loser.Dot.Seq, b.Loser.Dot.Seq)
	})
	return out
}

// HasConflict reports whether the write d to field k is recorded as a loser.
func (r *MemReplica) HasConflict(k FieldKey, d Dot) bool {
	_, ok := r.lost[conflictID{key: k, loser: d}]
	return ok
}

// LogLen is the number of changes in the replica's log.
func (r *MemReplica) LogLen() int { return len(r.log) }

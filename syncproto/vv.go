package syncproto

import (
	"bytes"
	"slices"
)

// VersionVector records, per origin replica, the highest contiguous sequence a
// replica holds. Writes of one origin are delivered in sequence order, so one
// number per origin says exactly what a replica has seen of it.
type VersionVector map[ReplicaID]uint64

// Get is the highest sequence seen from r (0 for none).
func (v VersionVector) Get(r ReplicaID) uint64 { return v[r] }

// Covers reports whether the write d has been seen.
func (v VersionVector) Covers(d Dot) bool { return d.Seq <= v[d.Replica] }

// Next reports whether d is the next write expected from its origin.
func (v VersionVector) Next(d Dot) bool { return d.Seq == v[d.Replica]+1 }

// Advance records d as seen if it is contiguous with what was seen before; it
// reports whether it did.
func (v VersionVector) Advance(d Dot) bool {
	if !v.Next(d) {
		return false
	}
	v[d.Replica] = d.Seq
	return true
}

// Merge takes the pointwise maximum.
func (v VersionVector) Merge(o VersionVector) {
	for r, s := range o {
		if s > v[r] {
			v[r] = s
		}
	}
}

// Clone copies the vector.
func (v VersionVector) Clone() VersionVector {
	c := make(VersionVector, len(v))
	for r, s := range v {
		c[r] = s
	}
	return c
}

// Dominates reports whether v has seen everything o has.
func (v VersionVector) Dominates(o VersionVector) bool {
	for r, s := range o {
		if v[r] < s {
			return false
		}
	}
	return true
}

// Equal reports whether both have seen the same writes.
func (v VersionVector) Equal(o VersionVector) bool { return v.Dominates(o) && o.Dominates(v) }

// Replicas lists the origins in byte order, for deterministic encoding.
func (v VersionVector) Replicas() []ReplicaID {
	rs := make([]ReplicaID, 0, len(v))
	for r := range v {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b ReplicaID) int { return bytes.Compare(a[:], b[:]) })
	return rs
}

package syncproto

import (
	"bytes"
	"encoding/binary"

	"github.com/google/uuid"
)

// ReplicaID names a replica (an agent's SQLite file, or the server). It is made
// once when the replica is created and never changes, even when the device is
// re-enrolled, so every write stays attributed to the replica that made it.
type ReplicaID = uuid.UUID

// ServerWriter is the replica id the server writes its own changes under
// (a coordinator's report transition, a record following its moved
// household) while it serves the log of epoch (Welcome.LogEpoch): server
// itself until a restore (epoch 0), a name-based id of both after. A server
// restored from a backup gets its sequence back with the copy; under the
// same id it would number new writes as the lost ones it made after the
// copy, and a laptop that pulled those would take the new writes for
// duplicates of what it holds (docs/PROTOCOL.md §7.1).
func ServerWriter(server ReplicaID, epoch uint64) ReplicaID {
	if epoch == 0 {
		return server
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], epoch)
	return uuid.NewSHA1(server, b[:])
}

// RowID is a synced row's key, made on the device that creates the row.
type RowID = uuid.UUID

// TombstoneField is the field that deletes (true) or restores (false) a row.
// It takes part in last-writer-wins like any other field.
const TombstoneField = "_deleted"

// Dot names one write: the replica that made it and that replica's sequence
// number for it. Dots never change, even when the server restamps a write's
// HLC, so a base reference stays valid.
type Dot struct {
	Replica ReplicaID
	Seq     uint64
}

// IsZero reports whether d names no write (a field written on an empty slot).
func (d Dot) IsZero() bool { return d.Seq == 0 }

// Change is one field write: the unit of replication.
type Change struct {
	Table string
	Row   RowID
	Field string
	Value Value
	// HLC orders concurrent writes. The server may replace it (restamp) when a
	// laptop's clock ran ahead; the Dot stays.
	HLC HLC
	// Dot is (origin replica, origin sequence).
	Dot Dot
	// Base is the dot of the value this write overwrote, as its writer saw it;
	// zero when the writer saw no value. Conflict detection rests on it.
	Base Dot
	// Scope is the hamlet the row belongs to: its replication scope.
	Scope string
}

// Version is what a replica keeps per field: the winning write's value and
// identity.
type Version struct {
	Value Value
	HLC   HLC
	Dot   Dot
	Base  Dot
}

// VersionOf is the version a change would install.
func VersionOf(c *Change) Version {
	return Version{Value: c.Value, HLC: c.HLC, Dot: c.Dot, Base: c.Base}
}

// FieldKey names one field of one row.
type FieldKey struct {
	Table string
	Row   RowID
	Field string
}

// Key is the field the change writes.
func (c *Change) Key() FieldKey { return FieldKey{Table: c.Table, Row: c.Row, Field: c.Field} }

// Wins reports whether write a beats write b under last-writer-wins: the higher
// HLC, then the higher replica id (bytewise), then the higher sequence. Every
// replica evaluates it identically, which is what makes the merge converge.
func Wins(aHLC HLC, aDot Dot, bHLC HLC, bDot Dot) bool {
	if aHLC != bHLC {
		return aHLC > bHLC
	}
	if c := bytes.Compare(aDot.Replica[:], bDot.Replica[:]); c != 0 {
		return c > 0
	}
	return aDot.Seq > bDot.Seq
}

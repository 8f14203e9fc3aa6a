package syncproto

import (
	"errors"
	"math"
)

// Snapshot clone (docs/PROTOCOL.md, "Snapshot clone"): a replica that has
// never synced, or whose cursor fell below the server's truncated log
// (Welcome.Reclone), asks for the current rows of its scope in chunks
// instead of replaying the log. Rows come in a stable order, (table, row
// id), so a cut connection resumes after the last chunk the client stored.
const (
	MsgSnapshotRequest MsgType = 9  // client → server: send me the rows after this position
	MsgSnapshotChunk   MsgType = 10 // server → client: one chunk of rows
)

// SnapshotPos is a position in the snapshot order: the last row stored.
// The zero position is the start.
type SnapshotPos struct {
	Table string
	Row   RowID
}

// IsZero reports whether p is the start.
func (p SnapshotPos) IsZero() bool { return p.Table == "" && p.Row == RowID{} }

// SnapshotRequest asks for the next chunk of the current rows of the
// device's scope.
type SnapshotRequest struct {
	// Head is the log head the clone started at, from its first chunk;
	// zero starts a clone (the server picks the head and returns it).
	Head uint64
	// After is the last row the client stored (zero: from the start).
	After SnapshotPos
	// Limit caps rows per chunk (0: server default).
	Limit uint32
	// Scopes narrows the clone to these hamlets of the device's scope
	// (empty: all of it). A hamlet outside the scope is refused.
	Scopes []string
}

// SnapshotChunk is one chunk of a snapshot. Rows carries every field of
// each row as a Change holding the field's current version (value, HLC,
// dot, base), grouped by row in (table, row) order; tombstoned rows the
// server still holds are sent too. Storing a chunk's rows and To in one transaction makes the clone
// resumable.
type SnapshotChunk struct {
	// Head is the log head the snapshot started at: after the last chunk the
	// client pulls the log from it.
	Head uint64
	// Total is the number of rows in scope, on the chunk answering a
	// request from the start (0 on later chunks).
	Total uint64
	From  SnapshotPos
	// To is the position of the last row of this chunk (From when empty).
	To SnapshotPos
	// More is true when rows remain after To.
	More bool
	Rows []Change
	// Lost lists the conflicts the server logged on the chunk's rows (its
	// eighth element, appended in the release after stop 62's: a client
	// that predates it skips it, §11): which write of a field lost, and
	// to which. A client that holds
	// a loser learns here that its value lost, where the snapshot's
	// version alone cannot tell a concurrent write that beat it from a
	// write made over it (docs/PROTOCOL.md §16.4).
	Lost []LostWrite
}

// LostWrite is one conflict the server logged: Loser, a version of Row's
// Field, lost to Winner.
type LostWrite struct {
	Row    RowID
	Field  string
	Loser  Dot
	Winner Dot
}

// NamedBy reports whether a message that sends c names l: c is a version
// of l's field whose dot is l's winner or which was written straight over
// it (docs/PROTOCOL.md §5.6 and §16.3 element 7). Further on, a receiver
// could not tell l's loser from a version written over on another branch.
func (l LostWrite) NamedBy(c *Change) bool {
	return l.Row == c.Row && l.Field == c.Field && (l.Winner == c.Dot || l.Winner == c.Base)
}

// NamedAfter is NamedBy where the server knows last, the last conflict it
// logged on c's field (c the version of the field it sends: the one it
// holds, or one a move logged again): it also names l when l's winner is
// last's. Every version the server takes over one it was not
// based on logs a conflict, so the field's versions since last descend
// from last's winner by writes made straight over it, whatever their
// number, and none of them from l's loser: a receiver that holds the
// loser lost it to c's chain (docs/PROTOCOL.md §16.4 step 3; issue
// 17, seed 8500139: a household moved away and back while the winner was
// written over twice).
func (l LostWrite) NamedAfter(c *Change, last LostWrite) bool {
	return l.NamedBy(c) || l.Row == c.Row && l.Field == c.Field && l.Winner == last.Winner
}

// SnapshotRows is the server's number of rows per chunk when a request's
// Limit is 0, and the most it sends in one (docs/PROTOCOL.md §16.2); a
// chunk is cut earlier at Limits.MaxChanges fields or MaxFrame bytes.
const SnapshotRows = 2000

func (*SnapshotRequest) Type() MsgType { return MsgSnapshotRequest }
func (*SnapshotChunk) Type() MsgType   { return MsgSnapshotChunk }

func (e *encoder) snapshot(m Message) (bool, error) {
	enc := e.enc
	switch m := m.(type) {
	case *SnapshotRequest:
		return true, errors.Join(enc.EncodeArrayLen(5), enc.EncodeUint(uint64(MsgSnapshotRequest)), enc.EncodeUint(m.Head),
			e.pos(m.After), enc.EncodeUint(uint64(m.Limit)), e.strings(m.Scopes))
	case *SnapshotChunk:
		n := 7
		if len(m.Lost) > 0 {
			n = 8 // a chunk without losses is the previous release's form
		}
		return true, errors.Join(enc.EncodeArrayLen(n), enc.EncodeUint(uint64(MsgSnapshotChunk)), enc.EncodeUint(m.Head),
			enc.EncodeUint(m.Total), e.pos(m.From), e.pos(m.To), enc.EncodeBool(m.More), e.changes(m.Rows), e.lost(m.Lost, n))
	}
	return false, nil
}

// lost writes the conflicts of a chunk or a Changes, each as [row, field, loser's replica,
// loser's sequence, winner's replica, winner's sequence]; nothing in a
// message of n < 8 elements.
func (e *encoder) lost(ls []LostWrite, n int) error {
	if n < 8 {
		return nil
	}
	enc := e.enc
	if err := enc.EncodeArrayLen(len(ls)); err != nil {
		return err
	}
	for i := range ls {
		l := &ls[i]
		if err := errors.Join(enc.EncodeArrayLen(6), enc.EncodeBytes(l.Row[:]), enc.EncodeString(l.Field),
			enc.EncodeBytes(l.Loser.Replica[:]), enc.EncodeUint(l.Loser.Seq),
			enc.EncodeBytes(l.Winner.Replica[:]), enc.EncodeUint(l.Winner.Seq)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) lost() ([]LostWrite, error) {
	n, err := d.arrayLen(d.lim.MaxChanges, "lost writes")
	if err != nil {
		return nil, err
	}
	var out []LostWrite
	if n > 0 {
		out = make([]LostWrite, n)
	}
	for i := range out {
		l := &out[i]
		k, err := d.arrayLen(64, "lost write")
		if err != nil {
			return nil, err
		}
		if k != 6 { // nested arrays are fixed (§11)
			return nil, Errorf(CodeBadFrame, "a lost write has %d elements, want 6", k)
		}
		if l.Row, err = d.uuid("lost write's row"); err != nil {
			return nil, err
		}
		if l.Field, err = d.str("lost write's field"); err != nil {
			return nil, err
		}
		if l.Loser, err = d.dot("lost write"); err != nil {
			return nil, err
		}
		if l.Winner, err = d.dot("lost write's winner"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dot reads a replica and a sequence, which is never 0.
func (d *decoder) dot(what string) (Dot, error) {
	var dt Dot
	var err error
	if dt.Replica, err = d.uuid(what + "'s replica"); err != nil {
		return dt, err
	}
	if dt.Seq, err = d.d.DecodeUint64(); err != nil {
		return dt, err
	}
	if dt.Seq == 0 {
		return dt, Errorf(CodeBadFrame, "%s has no sequence", what)
	}
	return dt, nil
}

func (e *encoder) pos(p SnapshotPos) error {
	if p.IsZero() {
		return e.enc.EncodeNil()
	}
	return errors.Join(e.enc.EncodeArrayLen(2), e.enc.EncodeString(p.Table), e.enc.EncodeBytes(p.Row[:]))
}

func (d *decoder) pos() (SnapshotPos, error) {
	var p SnapshotPos
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return p, err
	}
	if n < 0 {
		return p, nil // nil: the start
	}
	if n != 2 {
		return p, Errorf(CodeBadFrame, "a snapshot position has 2 elements, got %d", n)
	}
	if p.Table, err = d.str("position table"); err != nil {
		return p, err
	}
	if p.Row, err = d.uuid("position row"); err != nil {
		return p, err
	}
	return p, nil
}

func (d *decoder) snapshotRequest(n int) (Message, int, error) {
	if err := need(n, 5, MsgSnapshotRequest); err != nil {
		return nil, 0, err
	}
	m := &SnapshotRequest{}
	var err error
	if m.Head, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.After, err = d.pos(); err != nil {
		return nil, 0, err
	}
	l, err := d.uint(math.MaxUint32, "limit")
	if err != nil {
		return nil, 0, err
	}
	m.Limit = uint32(l)
	k, err := d.arrayLen(d.lim.MaxScope, "scopes")
	if err != nil {
		return nil, 0, err
	}
	if k > 0 {
		m.Scopes = make([]string, k)
	}
	for i := range m.Scopes {
		if m.Scopes[i], err = d.str("scope"); err != nil {
			return nil, 0, err
		}
	}
	if n == 6 && d.r.Len() == 0 {
		// The previous release's agents wrote an array header of 6 and
		// then these 5 elements. A real sixth element would have bytes,
		// so a frame that ends here can only be that form: accept it so
		// those agents still clone (docs/PROTOCOL.md §16.2).
		return m, 6, nil
	}
	return m, 5, nil
}

func (d *decoder) snapshotChunk(n int) (Message, int, error) {
	if err := need(n, 7, MsgSnapshotChunk); err != nil {
		return nil, 0, err
	}
	m := &SnapshotChunk{}
	var err error
	if m.Head, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.Total, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.From, err = d.pos(); err != nil {
		return nil, 0, err
	}
	if m.To, err = d.pos(); err != nil {
		return nil, 0, err
	}
	if m.More, err = d.d.DecodeBool(); err != nil {
		return nil, 0, err
	}
	if m.Rows, err = d.changes(); err != nil {
		return nil, 0, err
	}
	if n < 8 {
		return m, 7, nil
	}
	if m.Lost, err = d.lost(); err != nil {
		return nil, 0, err
	}
	return m, 8, nil
}

package agent

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/hamlet-vn/hamlet/internal/compact"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The compact row state (issue 9 part 5): rowState.encode writes it and
// decodeState reads it and the msgpack format before it (replicas of
// earlier builds), telling them apart by the first byte: 0xc1, the one
// byte msgpack never uses.
//
//	0xc1 uvarint(replicas) 16 bytes each
//	uvarint(base HLC: the lowest of the row)
//	uvarint(current versions) versions, uvarint(history) versions
//	version: uvarint(name code) [uvarint(len) name, when 0]
//	  flags: bits 0-2 kind, 3 the bool value, 4 has a base, 5 the base is
//	         the same replica (seq as a delta), 6 lost to a concurrent write
//	  value: int zigzag varint, float 8 bytes, string uvarint(len) bytes
//	  uvarint(HLC - base) uvarint(replica index, from 1) uvarint(seq)
//	  base: uvarint(seq - base seq) if same replica,
//	        else uvarint(replica index) uvarint(seq)
const stateCompact = 0xc1

const (
	stBase     = compact.FlagBase
	stBaseSame = compact.FlagBaseSame
	stLost     = 0x40 // a version lost to a concurrent write (history only)
)

func (e *blobEnc) compactVersion(dst []byte, field string, v *syncproto.Version, low syncproto.HLC, lost bool) []byte {
	dst = compact.AppendName(dst, field)
	flags := compact.ValueFlags(v.Value)
	hasBase := !v.Base.IsZero()
	same := hasBase && v.Base.Replica == v.Dot.Replica && v.Base.Seq <= v.Dot.Seq
	if hasBase {
		flags |= stBase
	}
	if same {
		flags |= stBaseSame
	}
	if lost {
		flags |= stLost
	}
	dst = append(dst, flags)
	dst = compact.AppendValue(dst, v.Value)
	dst = binary.AppendUvarint(dst, uint64(v.HLC-low))
	dst = binary.AppendUvarint(dst, uint64(e.reps[v.Dot.Replica]))
	dst = binary.AppendUvarint(dst, v.Dot.Seq)
	switch {
	case same:
		dst = binary.AppendUvarint(dst, v.Dot.Seq-v.Base.Seq)
	case hasBase:
		dst = binary.AppendUvarint(dst, uint64(e.reps[v.Base.Replica]))
		dst = binary.AppendUvarint(dst, v.Base.Seq)
	}
	return dst
}

// encodeCompact writes s in the compact format; e.reps and e.list hold
// the row's replicas (indexes from 1).
func (s *rowState) encodeCompact(e *blobEnc, fields []string) []byte {
	var low syncproto.HLC = math.MaxUint64
	for _, v := range s.cur {
		low = min(low, v.HLC)
	}
	for i := range s.hist {
		low = min(low, s.hist[i].Ver.HLC)
	}
	if len(s.cur)+len(s.hist) == 0 {
		low = 0
	}
	dst := make([]byte, 0, 16+16*len(e.list)+24*(len(fields)+len(s.hist)))
	dst = append(dst, stateCompact)
	dst = binary.AppendUvarint(dst, uint64(len(e.list)))
	for _, r := range e.list {
		dst = append(dst, r[:]...)
	}
	dst = binary.AppendUvarint(dst, uint64(low))
	dst = binary.AppendUvarint(dst, uint64(len(fields)))
	for _, f := range fields {
		dst = e.compactVersion(dst, f, s.cur[f], low, false)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.hist)))
	for i := range s.hist {
		h := &s.hist[i]
		dst = e.compactVersion(dst, h.Field, &h.Ver, low, h.Lost)
	}
	return dst
}

// histReader reads versions in the compact format (0xc1, and the history
// of 0xc2), their clocks above low.
type histReader struct {
	r    *compact.Reader
	id   syncproto.RowID
	reps []syncproto.ReplicaID
	low  syncproto.HLC
}

func (h *histReader) rep(i uint64) (syncproto.ReplicaID, error) {
	if i == 0 || i > uint64(len(h.reps)) {
		return syncproto.ReplicaID{}, fmt.Errorf("row state %s: replica index %d", h.id, i)
	}
	return h.reps[i-1], nil
}

func (h *histReader) version() (string, syncproto.Version, bool, error) {
	r, id := h.r, h.id
	var v syncproto.Version
	f, err := r.Name()
	if err != nil {
		return "", v, false, fmt.Errorf("row state %s: %w", id, err)
	}
	flags := r.Byte()
	if v.Value, err = r.Value(flags); err != nil {
		return "", v, false, fmt.Errorf("row state %s: %w", id, err)
	}
	v.HLC = h.low + syncproto.HLC(r.Uvarint())
	ri := r.Uvarint()
	v.Dot.Seq = r.Uvarint()
	var bi, bs uint64
	switch {
	case flags&stBaseSame != 0:
		d := r.Uvarint()
		if d > v.Dot.Seq {
			return "", v, false, fmt.Errorf("row state %s: base seq below zero", id)
		}
		bs = v.Dot.Seq - d
	case flags&stBase != 0:
		bi, bs = r.Uvarint(), r.Uvarint()
	}
	if r.Err != nil {
		return "", v, false, fmt.Errorf("row state %s: %w", id, r.Err)
	}
	if v.Dot.Replica, err = h.rep(ri); err != nil {
		return "", v, false, err
	}
	switch {
	case flags&stBaseSame != 0:
		v.Base = syncproto.Dot{Replica: v.Dot.Replica, Seq: bs}
	case flags&stBase != 0:
		if v.Base.Replica, err = h.rep(bi); err != nil {
			return "", v, false, err
		}
		v.Base.Seq = bs
	}
	return f, v, flags&stLost != 0, nil
}

// replicas reads the row's replica dictionary.
func (h *histReader) replicas(blobLen int) error {
	nr := h.r.Uvarint()
	if nr > uint64(blobLen)/16 {
		return fmt.Errorf("row state %s: %d replicas in %d bytes", h.id, nr, blobLen)
	}
	h.reps = make([]syncproto.ReplicaID, nr)
	for i := range h.reps {
		copy(h.reps[i][:], h.r.Bytes(16))
	}
	return nil
}

// history reads uvarint(count) versions into s.hist.
func (h *histReader) history(s *rowState, blobLen int) error {
	nh := h.r.Uvarint()
	if nh > uint64(blobLen) {
		return fmt.Errorf("row state %s: %d versions in %d bytes", h.id, nh, blobLen)
	}
	for range nh {
		f, v, lost, err := h.version()
		if err != nil {
			return err
		}
		s.hist = append(s.hist, histEntry{Field: f, Ver: v, Lost: lost})
	}
	return nil
}

// end checks the blob was read whole.
func (h *histReader) end() error {
	if h.r.Err != nil {
		return fmt.Errorf("row state %s: %w", h.id, h.r.Err)
	}
	if len(h.r.B) != 0 {
		return fmt.Errorf("row state %s: %d bytes after the last version", h.id, len(h.r.B))
	}
	return nil
}

func decodeStateCompact(s *rowState, blob []byte) (*rowState, error) {
	h := &histReader{r: &compact.Reader{B: blob[1:]}, id: s.id}
	if err := h.replicas(len(blob)); err != nil {
		return nil, err
	}
	h.low = syncproto.HLC(h.r.Uvarint())
	nc := h.r.Uvarint()
	if nc > uint64(len(blob)) {
		return nil, fmt.Errorf("row state %s: %d versions in %d bytes", s.id, nc, len(blob))
	}
	for range nc {
		f, v, _, err := h.version()
		if err != nil {
			return nil, err
		}
		vv := v
		s.cur[f] = &vv
	}
	if err := h.history(s, len(blob)); err != nil {
		return nil, err
	}
	if err := h.end(); err != nil {
		return nil, err
	}
	return s, nil
}

// The row state of issue 20 ("metadata under 1.0"): a field's current
// value lives once, in the row table the replica projects, as on the
// server (internal/versions).
//
//	0xc2 uvarint(replicas) 16 bytes each
//	uvarint(len) current versions: internal/versions' format (its 0xc2),
//	    replicas as indexes (from 1) into the row's, each value the row
//	    table holds exactly marked as the row table's and left out
//	uvarint(base HLC of the history) uvarint(history) versions, as in
//	    the compact format (values kept: the row table holds current
//	    values only)
//
// A value the row table holds otherwise or not at all stays in the blob:
// −0.0, NaN and infinities (SQLite gives back 0 and NULL), a value whose
// kind is not its column's type (SQLite's affinity would convert it), a
// field without a column (a newer schema's, a table this build does not
// know), null and bools (no payload to save).
const stateColumns = 0xc2

// insertUvarint inserts uvarint(x) into b at i.
func insertUvarint(b []byte, i int, x uint64) []byte {
	var n [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(n[:], x)
	b = slices.Insert(b, i, n[:l]...)
	return b
}

func (s *rowState) encodeColumns(e *blobEnc, fields []string, stored versions.Columns) ([]byte, error) {
	dst := make([]byte, 0, 24+16*len(e.list)+12*len(s.cur)+24*len(s.hist))
	dst = append(dst, stateColumns)
	dst = binary.AppendUvarint(dst, uint64(len(e.list)))
	for _, r := range e.list {
		dst = append(dst, r[:]...)
	}
	e.cur = e.cur[:0]
	for _, f := range fields {
		e.cur = append(e.cur, versions.FieldVersion{Field: f, Version: *s.cur[f]})
	}
	// The current versions are written after their length: encoded into
	// the blob's tail, then moved behind the length once it is known.
	start := len(dst)
	dst, err := versions.EncodeList(dst, e.cur, func(r syncproto.ReplicaID) (int64, error) {
		i, ok := e.reps[r]
		if !ok {
			return 0, fmt.Errorf("row state %s: replica %s not in the row's list", s.id, r)
		}
		return int64(i), nil
	}, stored)
	if err != nil {
		return nil, fmt.Errorf("encode row state %s: %w", s.id, err)
	}
	dst = insertUvarint(dst, start, uint64(len(dst)-start))
	var low syncproto.HLC = math.MaxUint64
	for i := range s.hist {
		low = min(low, s.hist[i].Ver.HLC)
	}
	if len(s.hist) == 0 {
		low = 0
	}
	dst = binary.AppendUvarint(dst, uint64(low))
	dst = binary.AppendUvarint(dst, uint64(len(s.hist)))
	for i := range s.hist {
		h := &s.hist[i]
		dst = e.compactVersion(dst, h.Field, &h.Ver, low, h.Lost)
	}
	return dst, nil
}

func decodeStateColumns(s *rowState, blob []byte, cols versions.Columns) (*rowState, error) {
	h := &histReader{r: &compact.Reader{B: blob[1:]}, id: s.id}
	if err := h.replicas(len(blob)); err != nil {
		return nil, err
	}
	cur := h.r.Bytes(h.r.Uvarint())
	if h.r.Err != nil {
		return nil, fmt.Errorf("row state %s: %w", s.id, h.r.Err)
	}
	vs, err := versions.Decode(cur, func(i int64) (syncproto.ReplicaID, error) {
		if i < 0 {
			return syncproto.ReplicaID{}, fmt.Errorf("row state %s: replica index %d", s.id, i)
		}
		return h.rep(uint64(i))
	}, cols)
	if err != nil {
		return nil, fmt.Errorf("row state %s: %w", s.id, err)
	}
	all := make([]syncproto.Version, 0, len(vs))
	for f, v := range vs {
		all = append(all, v)
		s.cur[f] = &all[len(all)-1]
	}
	h.low = syncproto.HLC(h.r.Uvarint())
	if err := h.history(s, len(blob)); err != nil {
		return nil, err
	}
	if err := h.end(); err != nil {
		return nil, err
	}
	return s, nil
}

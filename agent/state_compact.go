package agent

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/hamlet-vn/hamlet/internal/compact"
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

func decodeStateCompact(s *rowState, blob []byte) (*rowState, error) {
	id := s.id
	r := &compact.Reader{B: blob[1:]}
	nr := r.Uvarint()
	if nr > uint64(len(blob))/16 {
		return nil, fmt.Errorf("row state %s: %d replicas in %d bytes", id, nr, len(blob))
	}
	reps := make([]syncproto.ReplicaID, nr)
	for i := range reps {
		copy(reps[i][:], r.Bytes(16))
	}
	rep := func(i uint64) (syncproto.ReplicaID, error) {
		if i == 0 || i > uint64(len(reps)) {
			return syncproto.ReplicaID{}, fmt.Errorf("row state %s: replica index %d", id, i)
		}
		return reps[i-1], nil
	}
	low := syncproto.HLC(r.Uvarint())
	version := func() (string, syncproto.Version, bool, error) {
		var v syncproto.Version
		f, err := r.Name()
		if err != nil {
			return "", v, false, fmt.Errorf("row state %s: %w", id, err)
		}
		flags := r.Byte()
		if v.Value, err = r.Value(flags); err != nil {
			return "", v, false, fmt.Errorf("row state %s: %w", id, err)
		}
		v.HLC = low + syncproto.HLC(r.Uvarint())
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
		if v.Dot.Replica, err = rep(ri); err != nil {
			return "", v, false, err
		}
		switch {
		case flags&stBaseSame != 0:
			v.Base = syncproto.Dot{Replica: v.Dot.Replica, Seq: bs}
		case flags&stBase != 0:
			if v.Base.Replica, err = rep(bi); err != nil {
				return "", v, false, err
			}
			v.Base.Seq = bs
		}
		return f, v, flags&stLost != 0, nil
	}
	nc := r.Uvarint()
	if nc > uint64(len(blob)) {
		return nil, fmt.Errorf("row state %s: %d versions in %d bytes", id, nc, len(blob))
	}
	for range nc {
		f, v, _, err := version()
		if err != nil {
			return nil, err
		}
		vv := v
		s.cur[f] = &vv
	}
	nh := r.Uvarint()
	if nh > uint64(len(blob)) {
		return nil, fmt.Errorf("row state %s: %d versions in %d bytes", id, nh, len(blob))
	}
	for range nh {
		f, v, lost, err := version()
		if err != nil {
			return nil, err
		}
		s.hist = append(s.hist, histEntry{Field: f, Ver: v, Lost: lost})
	}
	if r.Err != nil {
		return nil, fmt.Errorf("row state %s: %w", id, r.Err)
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("row state %s: %d bytes after the last version", id, len(r.B))
	}
	return s, nil
}

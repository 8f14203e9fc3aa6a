package versions

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// FieldVersion is one field's current version.
type FieldVersion struct {
	Field string
	syncproto.Version
}

// DecodeList decodes a versions blob (Encode; cols as for Decode) into a list in the blob's
// order, which is by field name. It is Decode for
// streaming many rows: values are decoded by their kind, without
// interface values or a map.
func DecodeList(dst []FieldVersion, blob []byte, replica func(int64) (syncproto.ReplicaID, error), cols Columns) ([]FieldVersion, error) {
	if len(blob) == 0 {
		return dst, nil
	}
	if blob[0] == versionsColumns {
		err := walkVersionsColumns(blob, replica, orNone(cols), func(n uint64) { dst = slices.Grow(dst, int(n)) }, func(f string, v syncproto.Version) {
			dst = append(dst, FieldVersion{Field: f, Version: v})
		})
		if err != nil {
			return nil, err
		}
		return dst, nil
	}
	if blob[0] == versionsCompact {
		return decodeVersionListCompact(dst, blob, replica)
	}
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(blob))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, fmt.Errorf("decode versions: %w", err)
	}
	if n%8 != 0 {
		return nil, fmt.Errorf("decode versions: %d elements", n)
	}
	var last [2]int64
	var lastID [2]syncproto.ReplicaID
	rep := func(slot int, idx int64) (syncproto.ReplicaID, error) {
		if idx == last[slot] && idx != 0 {
			return lastID[slot], nil
		}
		r, err := replica(idx)
		if err == nil {
			last[slot], lastID[slot] = idx, r
		}
		return r, err
	}
	for i := 0; i < n/8; i++ {
		var fv FieldVersion
		if fv.Field, err = dec.DecodeString(); err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		kind, err := dec.DecodeInt64()
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		if kind < int64(syncproto.KindNull) || kind > int64(syncproto.KindString) {
			// Converting kind would wrap a damaged 259 to a float.
			return nil, fmt.Errorf("decode versions: %s: bad stored value: kind %d", fv.Field, kind)
		}
		switch syncproto.Kind(kind) {
		case syncproto.KindBool:
			var x int64
			if x, err = dec.DecodeInt64(); err == nil {
				fv.Value = syncproto.Bool(x != 0)
			}
		case syncproto.KindInt:
			var x int64
			if x, err = dec.DecodeInt64(); err == nil {
				fv.Value = syncproto.Int(x)
			}
		case syncproto.KindFloat:
			var x float64
			if x, err = dec.DecodeFloat64(); err == nil {
				fv.Value = syncproto.Float(x)
			}
		case syncproto.KindString:
			var x string
			if x, err = dec.DecodeString(); err == nil {
				fv.Value = syncproto.String(x)
			}
		case syncproto.KindNull:
			err = dec.Skip()
			fv.Value = syncproto.Null()
		}
		if err != nil {
			return nil, fmt.Errorf("decode versions: %s: %w", fv.Field, err)
		}
		var nums [5]uint64
		for j := range nums {
			if nums[j], err = dec.DecodeUint64(); err != nil {
				return nil, fmt.Errorf("decode versions: %w", err)
			}
		}
		fv.HLC = syncproto.HLC(nums[0])
		if fv.Dot.Replica, err = rep(0, int64(nums[1])); err != nil {
			return nil, err
		}
		fv.Dot.Seq = nums[2]
		if nums[3] != 0 {
			if fv.Base.Replica, err = rep(1, int64(nums[3])); err != nil {
				return nil, err
			}
			fv.Base.Seq = nums[4]
		}
		dst = append(dst, fv)
	}
	return dst, nil
}

// Fields is how many fields a blob holds, read from its header without
// decoding it (ok false for the msgpack format, or a damaged header).
func Fields(blob []byte) (n int, ok bool) {
	if len(blob) < 2 || (blob[0] != versionsColumns && blob[0] != versionsCompact) {
		return 0, false
	}
	v, k := binary.Uvarint(blob[1:])
	if k <= 0 || v > uint64(len(blob)) {
		return 0, false
	}
	return int(v), true
}

package versions

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Encode packs a row's field versions in the current format (columns.go),
// fields sorted so equal rows give equal bytes. stored is what the row
// table holds for each field once the row is saved (nil: the blob keeps
// every value): a value it holds exactly is not copied into the blob.
// Every store keeps this one format, with the same row tables, which is
// what lets migrate-store copy the blobs between stores unchanged.
func Encode(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error), stored Columns) ([]byte, error) {
	return encodeVersionsColumns(dst, vs, idx, stored)
}

// encodeVersionsMsgpack is the format before the compact one: a msgpack
// array of 8 elements per field (name, kind, value, hlc, origin, seq, base
// origin, base seq), replicas as the store's small integers. Databases
// written by earlier builds hold it; Decode still reads it.
func encodeVersionsMsgpack(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error)) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	names := make([]string, 0, len(vs))
	for f := range vs {
		names = append(names, f)
	}
	sort.Strings(names)
	if err := enc.EncodeArrayLen(8 * len(names)); err != nil {
		return nil, err
	}
	for _, f := range names {
		v := vs[f]
		o, err := idx(v.Dot.Replica)
		if err != nil {
			return nil, err
		}
		var b int64
		if !v.Base.IsZero() {
			if b, err = idx(v.Base.Replica); err != nil {
				return nil, err
			}
		}
		if err := enc.EncodeString(f); err != nil {
			return nil, err
		}
		if err := enc.EncodeUint(uint64(v.Value.Kind())); err != nil {
			return nil, err
		}
		if err := enc.Encode(SQLValue(v.Value)); err != nil {
			return nil, err
		}
		for _, n := range []uint64{uint64(v.HLC), uint64(o), v.Dot.Seq, uint64(b), v.Base.Seq} {
			if err := enc.EncodeUint(n); err != nil {
				return nil, err
			}
		}
	}
	return buf.Bytes(), nil
}

// Decode unpacks a versions blob of any format; replica turns the store's
// small integers back into replica ids, and cols gives the row table's
// values the blob does not copy (InTable; nil for a blob that has none).
func Decode(blob []byte, replica func(int64) (syncproto.ReplicaID, error), cols Columns) (map[string]syncproto.Version, error) {
	out := map[string]syncproto.Version{}
	if len(blob) == 0 {
		return out, nil
	}
	switch blob[0] {
	case versionsColumns:
		err := walkVersionsColumns(blob, replica, orNone(cols), func(n uint64) { out = make(map[string]syncproto.Version, n) },
			func(f string, v syncproto.Version) { out[f] = v })
		return out, err
	case versionsCompact:
		return decodeVersionsCompact(blob, replica)
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
	for i := 0; i < n/8; i++ {
		f, err := dec.DecodeString()
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		kind, err := dec.DecodeInt64()
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		raw, err := dec.DecodeInterface()
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		var nums [5]uint64
		for j := range nums {
			if nums[j], err = dec.DecodeUint64(); err != nil {
				return nil, fmt.Errorf("decode versions: %w", err)
			}
		}
		val, err := FromSQL(kind, normalizeRaw(raw))
		if err != nil {
			return nil, fmt.Errorf("decode versions: %s: %w", f, err)
		}
		v := syncproto.Version{Value: val, HLC: syncproto.HLC(nums[0])}
		if v.Dot.Replica, err = replica(int64(nums[1])); err != nil {
			return nil, err
		}
		v.Dot.Seq = nums[2]
		if nums[3] != 0 {
			if v.Base.Replica, err = replica(int64(nums[3])); err != nil {
				return nil, err
			}
			v.Base.Seq = nums[4]
		}
		out[f] = v
	}
	return out, nil
}

// normalizeRaw maps msgpack's decoded integer types to int64.
func normalizeRaw(x any) any {
	switch n := x.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	case float32:
		return float64(n)
	}
	return x
}

// orNone is cols, or no columns at all.
func orNone(cols Columns) Columns {
	if cols == nil {
		return func(string) (any, bool) { return nil, false }
	}
	return cols
}

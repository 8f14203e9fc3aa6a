package pgstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// encodeValue is a value as the log, conflict and refusal tables keep it:
// its kind and bytes (bool: one byte; int and float: 8 bytes big-endian;
// string: UTF-8; null: NULL). Exact for every kind.
func encodeValue(v syncproto.Value) (int16, []byte) {
	switch v.Kind() {
	case syncproto.KindBool:
		if v.AsBool() {
			return int16(v.Kind()), []byte{1}
		}
		return int16(v.Kind()), []byte{0}
	case syncproto.KindInt:
		return int16(v.Kind()), binary.BigEndian.AppendUint64(nil, uint64(v.AsInt()))
	case syncproto.KindFloat:
		return int16(v.Kind()), binary.BigEndian.AppendUint64(nil, math.Float64bits(v.AsFloat()))
	case syncproto.KindString:
		return int16(v.Kind()), append([]byte{}, v.AsString()...)
	}
	return int16(syncproto.KindNull), nil
}

func decodeValue(kind int16, b []byte) (syncproto.Value, error) {
	switch syncproto.Kind(kind) {
	case syncproto.KindNull:
		return syncproto.Null(), nil
	case syncproto.KindBool:
		if len(b) == 1 {
			return syncproto.Bool(b[0] != 0), nil
		}
	case syncproto.KindInt:
		if len(b) == 8 {
			return syncproto.Int(int64(binary.BigEndian.Uint64(b))), nil
		}
	case syncproto.KindFloat:
		if len(b) == 8 {
			return syncproto.Float(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
		}
	case syncproto.KindString:
		return syncproto.String(string(b)), nil
	}
	return syncproto.Null(), fmt.Errorf("bad stored value: kind %d, %d bytes", kind, len(b))
}

// textValue is a value as text for a materialised column (cast in SQL to
// the column's type): booleans are 0/1 like the SQLite store's, floats the
// shortest text that reads back exactly.
func textValue(v syncproto.Value) *string {
	var s string
	switch v.Kind() {
	case syncproto.KindNull:
		return nil
	case syncproto.KindBool:
		s = "0"
		if v.AsBool() {
			s = "1"
		}
	case syncproto.KindInt:
		s = strconv.FormatInt(v.AsInt(), 10)
	case syncproto.KindFloat:
		s = strconv.FormatFloat(v.AsFloat(), 'g', -1, 64)
	default:
		s = v.AsString()
	}
	return &s
}

// encodeVersions packs a row's field versions: a msgpack array of 8
// elements per field (name, kind, value, hlc, origin, seq, base origin,
// base seq), replicas as the store's indexes, fields sorted. The layout is
// the SQLite store's (server/versions.go), so a copy between stores only
// maps replica indexes.
func encodeVersions(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error)) ([]byte, error) {
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
		var raw any
		switch v.Value.Kind() {
		case syncproto.KindBool:
			raw = int64(0)
			if v.Value.AsBool() {
				raw = int64(1)
			}
		case syncproto.KindNull:
		default:
			raw = v.Value.Any()
		}
		if err := enc.Encode(raw); err != nil {
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

func decodeVersions(blob []byte, replica func(int64) (syncproto.ReplicaID, error)) (map[string]syncproto.Version, error) {
	out := map[string]syncproto.Version{}
	if len(blob) == 0 {
		return out, nil
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
		v := syncproto.Version{Value: rawValue(kind, raw), HLC: syncproto.HLC(nums[0])}
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

// rawValue is a msgpack-decoded value of a kind.
func rawValue(kind int64, raw any) syncproto.Value {
	var i int64
	var f float64
	switch n := raw.(type) {
	case int8:
		i = int64(n)
	case int16:
		i = int64(n)
	case int32:
		i = int64(n)
	case int64:
		i = n
	case uint8:
		i = int64(n)
	case uint16:
		i = int64(n)
	case uint32:
		i = int64(n)
	case uint64:
		i = int64(n)
	case float32:
		f = float64(n)
	case float64:
		f = n
	}
	switch syncproto.Kind(kind) {
	case syncproto.KindBool:
		return syncproto.Bool(i != 0)
	case syncproto.KindInt:
		return syncproto.Int(i)
	case syncproto.KindFloat:
		if _, ok := raw.(float64); !ok {
			if _, ok := raw.(float32); !ok {
				f = float64(i)
			}
		}
		return syncproto.Float(f)
	case syncproto.KindString:
		switch s := raw.(type) {
		case string:
			return syncproto.String(s)
		case []byte:
			return syncproto.String(string(s))
		}
		return syncproto.String("")
	}
	return syncproto.Null()
}

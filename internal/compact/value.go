package compact

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/hamlet-vn/hamlet/internal/fieldcode"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Flag bits both formats give each version: the value's kind, a bool's
// value, and whether a base follows.
const (
	FlagKind     = 0x07
	FlagTrue     = 0x08
	FlagBase     = 0x10
	FlagBaseSame = 0x20 // the base is the same replica: its seq is a delta
)

// AppendName writes a field name as its fieldcode code, or as code 0 and
// the name when the frozen list lacks it.
func AppendName(dst []byte, field string) []byte {
	code := fieldcode.Code(field)
	dst = binary.AppendUvarint(dst, code)
	if code == 0 {
		dst = binary.AppendUvarint(dst, uint64(len(field)))
		dst = append(dst, field...)
	}
	return dst
}

// Name reads what AppendName wrote.
func (r *Reader) Name() (string, error) {
	code := r.Uvarint()
	if code == 0 {
		return string(r.Bytes(r.Uvarint())), nil
	}
	if name, ok := fieldcode.Name(code); ok {
		return name, nil
	}
	if r.Err != nil {
		return "", nil // the caller reports r.Err
	}
	return "", fmt.Errorf("field code %d", code)
}

// ValueFlags is the kind bits, and the bool bit, of v.
func ValueFlags(v syncproto.Value) byte {
	k := v.Kind()
	flags := byte(k) & FlagKind
	if k == syncproto.KindBool && v.AsBool() {
		flags |= FlagTrue
	}
	return flags
}

// AppendValue writes v's payload (null and bool have none: their flags
// say it all).
func AppendValue(dst []byte, v syncproto.Value) []byte {
	switch v.Kind() {
	case syncproto.KindInt:
		dst = binary.AppendVarint(dst, v.AsInt())
	case syncproto.KindFloat:
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(v.AsFloat()))
	case syncproto.KindString:
		s := v.AsString()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// Value reads the payload of the value flags announce.
func (r *Reader) Value(flags byte) (syncproto.Value, error) {
	switch syncproto.Kind(flags & FlagKind) {
	case syncproto.KindNull:
		return syncproto.Null(), nil
	case syncproto.KindBool:
		return syncproto.Bool(flags&FlagTrue != 0), nil
	case syncproto.KindInt:
		return syncproto.Int(r.Varint()), nil
	case syncproto.KindFloat:
		if b := r.Bytes(8); len(b) == 8 {
			return syncproto.Float(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
		}
		return syncproto.Null(), nil // r.Err says why
	case syncproto.KindString:
		return syncproto.String(string(r.Bytes(r.Uvarint()))), nil
	}
	return syncproto.Null(), fmt.Errorf("value kind %d", flags&FlagKind)
}

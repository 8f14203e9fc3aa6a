package pgstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

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

// decodeValue reads what encodeValue wrote. A kind no Kind is (a damaged
// row) is an error, never another kind's value.
func decodeValue(kind int16, b []byte) (syncproto.Value, error) {
	if int16(syncproto.Kind(kind)) != kind {
		return syncproto.Null(), fmt.Errorf("bad stored value: kind %d, %d bytes", kind, len(b))
	}
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

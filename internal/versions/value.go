package versions

import (
	"fmt"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// SQLValue is a synced value as a SQL column natively holds it (the SQLite
// store's log, conflict and refusal tables, and the msgpack versions
// format): booleans as 0 or 1, null as NULL, the rest as Go values.
func SQLValue(v syncproto.Value) any {
	switch v.Kind() {
	case syncproto.KindBool:
		if v.AsBool() {
			return int64(1)
		}
		return int64(0)
	case syncproto.KindNull:
		return nil
	default:
		return v.Any()
	}
}

// FromSQL reads back a value SQLValue wrote, given its kind, from what a
// SQL driver returns for it (a float column may come back as an integer,
// text as bytes). A kind that is no Kind (a damaged row) is an error, never
// another kind's value: converting it to Kind would wrap 259 to a float.
func FromSQL(kind int64, val any) (syncproto.Value, error) {
	if kind < int64(syncproto.KindNull) || kind > int64(syncproto.KindString) {
		return syncproto.Null(), fmt.Errorf("bad stored value: kind %d", kind)
	}
	return fromSQL(syncproto.Kind(kind), val), nil
}

func fromSQL(kind syncproto.Kind, val any) syncproto.Value {
	switch kind {
	case syncproto.KindBool:
		return syncproto.Bool(asInt(val) != 0)
	case syncproto.KindInt:
		return syncproto.Int(asInt(val))
	case syncproto.KindFloat:
		switch x := val.(type) {
		case float64:
			return syncproto.Float(x)
		case int64:
			return syncproto.Float(float64(x))
		}
		return syncproto.Float(0)
	case syncproto.KindString:
		switch x := val.(type) {
		case string:
			return syncproto.String(x)
		case []byte:
			return syncproto.String(string(x))
		}
		return syncproto.String("")
	}
	return syncproto.Null()
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

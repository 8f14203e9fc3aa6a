package syncproto

import (
	"fmt"
	"math"
	"strconv"
)

// Kind is the type of a field value on the wire.
type Kind uint8

const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
)

// Value is one field's value. It is a small comparable struct rather than an
// interface so the merge moves values without allocating.
type Value struct {
	kind Kind
	num  uint64
	str  string
}

func Null() Value { return Value{} }
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}
func Int(i int64) Value          { return Value{kind: KindInt, num: uint64(i)} }
func Float(f float64) Value      { return Value{kind: KindFloat, num: math.Float64bits(f)} }
func String(s string) Value      { return Value{kind: KindString, str: s} }
func (v Value) Kind() Kind       { return v.kind }
func (v Value) IsNull() bool     { return v.kind == KindNull }
func (v Value) AsBool() bool     { return v.kind == KindBool && v.num == 1 }
func (v Value) AsInt() int64     { return int64(v.num) }
func (v Value) AsFloat() float64 { return math.Float64frombits(v.num) }
func (v Value) AsString() string { return v.str }

// Any returns the value as nil, bool, int64, float64 or string: the types the
// schema validates and database/sql drivers accept.
func (v Value) Any() any {
	switch v.kind {
	case KindBool:
		return v.AsBool()
	case KindInt:
		return v.AsInt()
	case KindFloat:
		return v.AsFloat()
	case KindString:
		return v.str
	default:
		return nil
	}
}

// ValueOf converts nil, bool, the integer types, float32/64 and string.
func ValueOf(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return Null(), nil
	case Value:
		return t, nil
	case bool:
		return Bool(t), nil
	case int:
		return Int(int64(t)), nil
	case int32:
		return Int(int64(t)), nil
	case int64:
		return Int(t), nil
	case uint32:
		return Int(int64(t)), nil
	case float32:
		return Float(float64(t)), nil
	case float64:
		return Float(t), nil
	case string:
		return String(t), nil
	case []byte:
		return String(string(t)), nil
	default:
		return Null(), fmt.Errorf("syncproto: unsupported value type %T", x)
	}
}

// Equal reports whether two values are identical (floats bitwise).
func (v Value) Equal(o Value) bool { return v == o }

func (v Value) String() string {
	switch v.kind {
	case KindBool:
		return strconv.FormatBool(v.AsBool())
	case KindInt:
		return strconv.FormatInt(v.AsInt(), 10)
	case KindFloat:
		return strconv.FormatFloat(v.AsFloat(), 'g', -1, 64)
	case KindString:
		return strconv.Quote(v.str)
	default:
		return "null"
	}
}

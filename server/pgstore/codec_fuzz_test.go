package pgstore

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// FuzzDecodeValue: what a row of the log, conflict or refusal tables holds
// as (kind, bytes) decodes to a value or to an error, never a panic; a
// value decoded writes back as the same bytes (a bool as 0 or 1), and
// every value the store writes reads back as itself.
func FuzzDecodeValue(f *testing.F) {
	for _, v := range []syncproto.Value{syncproto.Null(), syncproto.Bool(true), syncproto.Bool(false), syncproto.Int(-7),
		syncproto.Int(math.MaxInt64), syncproto.Float(9.1769), syncproto.Float(math.Inf(-1)), syncproto.String("Nguyễn Văn An"), syncproto.String("")} {
		k, b := encodeValue(v)
		f.Add(k, b)
	}
	f.Add(int16(syncproto.KindInt), []byte{1, 2, 3})
	f.Add(int16(99), []byte{})
	f.Add(int16(-1), []byte(nil))
	f.Fuzz(func(t *testing.T, kind int16, b []byte) {
		v, err := decodeValue(kind, b)
		if err != nil {
			if v != syncproto.Null() {
				t.Fatalf("an error with a value: %v", v)
			}
			return
		}
		k2, b2 := encodeValue(v)
		switch syncproto.Kind(kind) {
		case syncproto.KindNull:
			if k2 != kind || b2 != nil {
				t.Fatalf("null wrote back as %d %x", k2, b2)
			}
			return
		case syncproto.KindBool:
			b = []byte{min(b[0], 1)}
		}
		if k2 != kind || !bytes.Equal(b, b2) {
			t.Fatalf("kind %d %x decoded to %v, wrote back as %d %x", kind, b, v, k2, b2)
		}
		// And the other way: a value made of the input reads back as itself.
		var w syncproto.Value
		switch syncproto.Kind(kind) {
		case syncproto.KindBool:
			w = syncproto.Bool(b[0] == 1)
		case syncproto.KindInt:
			w = syncproto.Int(int64(binary.BigEndian.Uint64(b)))
		case syncproto.KindFloat:
			w = syncproto.Float(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case syncproto.KindString:
			w = syncproto.String(string(b))
		}
		got, err := decodeValue(encodeValue(w))
		if err != nil {
			t.Fatalf("%v does not read back: %v", w, err)
		}
		if k, enc := encodeValue(got); k != kind || !bytes.Equal(enc, b) {
			t.Fatalf("%v read back as %v", w, got)
		}
	})
}

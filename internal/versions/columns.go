package versions

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/compact"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The versions format of issue 20 ("metadata under 1.0"): a field's current
// value lives once, in the row table the store materialises, and the blob
// keeps only what makes it a version. Encode writes it; Decode reads it and
// every format before it.
//
//	0xc2 uvarint(fields) uvarint(the first field's HLC millisecond)
//	per field, by name:
//	  uvarint(name code) [uvarint(len) name, when the code is 0]
//	  flags: bits 0-2 value kind, 3 the bool value, 4 has a base,
//	         5 the base is the same replica (then its seq is a delta),
//	         6 the value is the row table's (no payload here),
//	         7 the same replica as the previous field's
//	  value, unless bit 6: int zigzag varint, float 8 bytes,
//	         string uvarint(len) bytes (null and bool have none)
//	  varint(HLC ms - the previous field's), then the HLC's logical
//	         counter: varint(logical - the previous field's) in the same
//	         millisecond (after the first field), else uvarint(logical)
//	  uvarint(replica), unless bit 7
//	  varint(seq - the previous seq of that replica in this blob, 0 for
//	         its first)
//	  base: uvarint(seq - base seq) if same replica,
//	        else uvarint(replica) uvarint(seq)
//
// Bit 6 is set only where the encoder was told (Columns) that the row
// table holds exactly the value, so a value the row table cannot hold, or
// holds otherwise (the server's own hamlet_code of a child row, a deleted
// flag that is null), stays in the blob. Clocks, replicas and seqs are
// deltas because the fields of one edit share a writer and a millisecond
// and run in sequence: a byte each, or none, instead of three.
const versionsColumns = 0xc2

const (
	flagInTable     = 0x40
	flagSameReplica = 0x80
)

// Columns gives the row table's value of a field as the SQL driver reads
// it (nil when the column is NULL); ok is false when the row table has no
// such column or no such row.
type Columns func(field string) (v any, ok bool)

// inTable reports whether the row table's value x is v exactly: the kind
// the version names read back from the column as the stores read every
// value (FromSQL), a float to the bit.
func inTable(v syncproto.Value, x any, ok bool) bool {
	if !ok || x == nil {
		return false
	}
	switch v.Kind() {
	case syncproto.KindInt, syncproto.KindString:
		return fromSQL(v.Kind(), x) == v
	case syncproto.KindFloat:
		// A store may not give back what it was given: SQLite keeps a
		// whole REAL as an integer and so reads -0.0 as 0, and turns NaN
		// into NULL. Such a float stays in the blob whatever the encoder
		// is told.
		f := v.AsFloat()
		if f == 0 && math.Signbit(f) || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		return math.Float64bits(fromSQL(v.Kind(), x).AsFloat()) == math.Float64bits(f)
	}
	return false // null and bool cost no payload: they stay in the flags
}

func encodeVersionsColumns(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error), stored Columns) ([]byte, error) {
	list := make([]FieldVersion, 0, len(vs))
	for f, v := range vs {
		list = append(list, FieldVersion{Field: f, Version: v})
	}
	slices.SortFunc(list, func(a, b FieldVersion) int { return strings.Compare(a.Field, b.Field) })
	return encodeListColumns(dst, list, idx, stored)
}

// EncodeList is Encode of versions given as a list sorted by field name,
// each field once (what DecodeList gives back): the same bytes, without
// building a map.
func EncodeList(dst []byte, list []FieldVersion, idx func(syncproto.ReplicaID) (int64, error), stored Columns) ([]byte, error) {
	for i := 1; i < len(list); i++ {
		if list[i-1].Field >= list[i].Field {
			return nil, fmt.Errorf("encode versions: fields not sorted or twice: %q before %q", list[i-1].Field, list[i].Field)
		}
	}
	return encodeListColumns(dst, list, idx, stored)
}

func encodeListColumns(dst []byte, list []FieldVersion, idx func(syncproto.ReplicaID) (int64, error), stored Columns) ([]byte, error) {
	var ms int64       // the previous field's millisecond
	var logical uint16 // and logical counter
	if len(list) > 0 {
		ms, logical = list[0].HLC.Millis(), list[0].HLC.Logical()
	}
	dst = append(dst, versionsColumns)
	dst = binary.AppendUvarint(dst, uint64(len(list)))
	dst = binary.AppendUvarint(dst, uint64(ms))
	var memo [2]struct {
		idx int64
		seq uint64
	}
	prev := seqMemo(memo[:0])
	prevRep := int64(-1)
	for i := range list {
		f, v := list[i].Field, &list[i].Version
		dst = compact.AppendName(dst, f)
		o, err := idx(v.Dot.Replica)
		if err != nil {
			return nil, err
		}
		flags, hasBase, same := entryFlags(*v)
		own := false
		if stored != nil {
			x, ok := stored(f)
			own = inTable(v.Value, x, ok)
		}
		if own {
			flags |= flagInTable
		}
		if o == prevRep {
			flags |= flagSameReplica
		}
		dst = append(dst, flags)
		if !own {
			dst = compact.AppendValue(dst, v.Value)
		}
		dms := v.HLC.Millis() - ms
		dst = binary.AppendVarint(dst, dms)
		if dms == 0 && i > 0 {
			dst = binary.AppendVarint(dst, int64(v.HLC.Logical())-int64(logical))
		} else {
			dst = binary.AppendUvarint(dst, uint64(v.HLC.Logical()))
		}
		ms, logical = v.HLC.Millis(), v.HLC.Logical()
		if o != prevRep {
			dst = binary.AppendUvarint(dst, uint64(o))
			prevRep = o
		}
		dst = binary.AppendVarint(dst, int64(v.Dot.Seq-prev.swap(o, v.Dot.Seq)))
		switch {
		case same:
			dst = binary.AppendUvarint(dst, v.Dot.Seq-v.Base.Seq)
		case hasBase:
			b, err := idx(v.Base.Replica)
			if err != nil {
				return nil, err
			}
			dst = binary.AppendUvarint(dst, uint64(b))
			dst = binary.AppendUvarint(dst, v.Base.Seq)
		}
	}
	return dst, nil
}

// seqMemo is the last seq of each replica met in a blob: a row has one or
// two writers, so a short list.
type seqMemo []struct {
	idx int64
	seq uint64
}

// swap returns the last seq of replica idx (0 if none) and records seq.
func (m *seqMemo) swap(idx int64, seq uint64) uint64 {
	for i := range *m {
		if (*m)[i].idx == idx {
			old := (*m)[i].seq
			(*m)[i].seq = seq
			return old
		}
	}
	*m = append(*m, struct {
		idx int64
		seq uint64
	}{idx, seq})
	return 0
}

// walkVersionsColumns decodes a 0xc2 blob field by field, in name order;
// size is called first with the number of fields.
func walkVersionsColumns(blob []byte, replica func(int64) (syncproto.ReplicaID, error), cols Columns,
	size func(uint64), emit func(string, syncproto.Version)) error {
	r := &compact.Reader{B: blob[1:]}
	n := r.Uvarint()
	if n > uint64(len(blob)) {
		return fmt.Errorf("decode versions: %d fields in %d bytes", n, len(blob))
	}
	size(n)
	ms := int64(r.Uvarint()) // the previous field's millisecond
	var logical int64        // and logical counter: the first field's is absolute
	var prev seqMemo
	o := int64(-1)    // the previous field's replica
	var last [2]int64 // the replica lookups of the last field, reused
	var lastID [2]syncproto.ReplicaID
	rep := func(slot int, idx int64) (syncproto.ReplicaID, error) {
		if idx != 0 && idx == last[slot] {
			return lastID[slot], nil
		}
		id, err := replica(idx)
		if err == nil {
			last[slot], lastID[slot] = idx, id
		}
		return id, err
	}
	for i := uint64(0); i < n && r.Err == nil; i++ {
		f, err := r.Name()
		if err != nil {
			return fmt.Errorf("decode versions: %w", err)
		}
		flags := r.Byte()
		var v syncproto.Version
		if flags&flagInTable != 0 {
			k := syncproto.Kind(flags & compact.FlagKind)
			if k != syncproto.KindInt && k != syncproto.KindFloat && k != syncproto.KindString {
				return fmt.Errorf("decode versions: %s: value kind %d cannot be the row table's", f, k)
			}
			x, ok := cols(f)
			if !ok || x == nil {
				return fmt.Errorf("decode versions: %s: the row table holds no value for it", f)
			}
			v.Value = fromSQL(k, x)
		} else if v.Value, err = r.Value(flags); err != nil {
			return fmt.Errorf("decode versions: %w", err)
		}
		if dms := r.Varint(); dms != 0 || i == 0 {
			ms += dms
			logical = int64(r.Uvarint())
		} else {
			logical += r.Varint()
		}
		if flags&flagSameReplica == 0 {
			o = int64(r.Uvarint())
		}
		d := r.Varint()
		if r.Err != nil {
			break
		}
		if ms < 0 || ms > math.MaxInt64>>16 || logical < 0 || logical > math.MaxUint16 || o < 0 {
			return fmt.Errorf("decode versions: %s: clock or replica out of range", f)
		}
		v.HLC = syncproto.MakeHLC(ms, uint16(logical))
		v.Dot.Seq = prev.swap(o, 0) + uint64(d)
		prev.swap(o, v.Dot.Seq)
		if v.Dot.Replica, err = rep(0, o); err != nil {
			return err
		}
		switch {
		case flags&flagBaseSame != 0:
			d := r.Uvarint()
			if d > v.Dot.Seq {
				return fmt.Errorf("decode versions: base seq below zero")
			}
			v.Base = syncproto.Dot{Replica: v.Dot.Replica, Seq: v.Dot.Seq - d}
		case flags&flagBase != 0:
			b := int64(r.Uvarint())
			v.Base.Seq = r.Uvarint()
			if r.Err != nil {
				break
			}
			if v.Base.Replica, err = rep(1, b); err != nil {
				return err
			}
		}
		emit(f, v)
	}
	if r.Err != nil {
		return fmt.Errorf("decode versions: %w", r.Err)
	}
	if len(r.B) != 0 {
		return fmt.Errorf("decode versions: %d bytes after the last field", len(r.B))
	}
	return nil
}

// InTable reports whether blob takes values from the row table, so a
// reader must give Decode the row's columns.
func InTable(blob []byte) bool { return len(blob) > 0 && blob[0] == versionsColumns }

package versions

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/hamlet-vn/hamlet/internal/compact"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The compact versions format (issue 9 part 5: metadata that does not grow
// without bound), which builds before issue 20 wrote (columns.go is its
// successor). Decode reads it, and the msgpack format before it
// (databases written by earlier builds), telling them apart by the first
// byte: 0xc1 is the one byte msgpack never uses.
//
//	0xc1 uvarint(fields) uvarint(base HLC: the row's lowest)
//	per field, by name:
//	  uvarint(name code) [uvarint(len) name, when the code is 0]
//	  flags: bits 0-2 value kind, 3 the bool value, 4 has a base,
//	         5 the base is the same replica (then its seq is a delta)
//	  value: int zigzag varint, float 8 bytes, string uvarint(len) bytes
//	  uvarint(HLC - base HLC) uvarint(replica) uvarint(seq)
//	  base: uvarint(seq - base seq) if same replica,
//	        else uvarint(replica) uvarint(seq)
//
// Replicas are the store's small integers, as before. Field names are codes
// of internal/fieldcode, a frozen list (a name it lacks is written out,
// code 0).
const versionsCompact = 0xc1

const (
	flagBase     = compact.FlagBase
	flagBaseSame = compact.FlagBaseSame
)

// EncodeCompact writes the 0xc1 format, every value in the blob, as builds
// before issue 20 wrote it: tests make databases of those builds with it,
// to check that they read and upgrade.
func EncodeCompact(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error)) ([]byte, error) {
	return encodeVersionsCompact(dst, vs, idx)
}

// entryFlags are the flags both formats begin an entry with: the value's
// kind, whether it has a base, and whether that base is an earlier change
// of the same replica (then written as a distance).
func entryFlags(v syncproto.Version) (flags byte, hasBase, same bool) {
	flags = compact.ValueFlags(v.Value)
	hasBase = !v.Base.IsZero()
	same = hasBase && v.Base.Replica == v.Dot.Replica && v.Base.Seq <= v.Dot.Seq
	if hasBase {
		flags |= flagBase
	}
	if same {
		flags |= flagBaseSame
	}
	return flags, hasBase, same
}

func encodeVersionsCompact(dst []byte, vs map[string]syncproto.Version, idx func(syncproto.ReplicaID) (int64, error)) ([]byte, error) {
	names := make([]string, 0, len(vs))
	var low syncproto.HLC = math.MaxUint64
	for f, v := range vs {
		names = append(names, f)
		low = min(low, v.HLC)
	}
	sort.Strings(names)
	if len(names) == 0 {
		low = 0
	}
	dst = append(dst, versionsCompact)
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	dst = binary.AppendUvarint(dst, uint64(low))
	for _, f := range names {
		v := vs[f]
		dst = compact.AppendName(dst, f)
		o, err := idx(v.Dot.Replica)
		if err != nil {
			return nil, err
		}
		flags, hasBase, same := entryFlags(v)
		dst = append(dst, flags)
		dst = compact.AppendValue(dst, v.Value)
		dst = binary.AppendUvarint(dst, uint64(v.HLC-low))
		dst = binary.AppendUvarint(dst, uint64(o))
		dst = binary.AppendUvarint(dst, v.Dot.Seq)
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

func decodeVersionsCompact(blob []byte, replica func(int64) (syncproto.ReplicaID, error)) (map[string]syncproto.Version, error) {
	var out map[string]syncproto.Version
	err := walkVersionsCompact(blob, replica, func(n uint64) { out = make(map[string]syncproto.Version, n) },
		func(f string, v syncproto.Version) { out[f] = v })
	return out, err
}

// walkVersionsCompact decodes a compact blob field by field, in name
// order: size is called first with the number of fields.
func walkVersionsCompact(blob []byte, replica func(int64) (syncproto.ReplicaID, error), size func(uint64), emit func(string, syncproto.Version)) error {
	r := &compact.Reader{B: blob[1:]}
	n := r.Uvarint()
	if n > uint64(len(blob)) {
		return fmt.Errorf("decode versions: %d fields in %d bytes", n, len(blob))
	}
	size(n)
	low := syncproto.HLC(r.Uvarint())
	for i := uint64(0); i < n && r.Err == nil; i++ {
		f, err := r.Name()
		if err != nil {
			return fmt.Errorf("decode versions: %w", err)
		}
		flags := r.Byte()
		var v syncproto.Version
		if v.Value, err = r.Value(flags); err != nil {
			return fmt.Errorf("decode versions: %w", err)
		}
		v.HLC = low + syncproto.HLC(r.Uvarint())
		o := r.Uvarint()
		v.Dot.Seq = r.Uvarint()
		if r.Err != nil {
			break
		}
		if v.Dot.Replica, err = replica(int64(o)); err != nil {
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
			b := r.Uvarint()
			v.Base.Seq = r.Uvarint()
			if r.Err != nil {
				break
			}
			if v.Base.Replica, err = replica(int64(b)); err != nil {
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

// decodeVersionListCompact is DecodeList for a compact blob.
func decodeVersionListCompact(dst []FieldVersion, blob []byte, replica func(int64) (syncproto.ReplicaID, error)) ([]FieldVersion, error) {
	err := walkVersionsCompact(blob, replica, func(uint64) {}, func(f string, v syncproto.Version) {
		dst = append(dst, FieldVersion{Field: f, Version: v})
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

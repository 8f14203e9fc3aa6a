package versions

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/compact"
	"github.com/hamlet-vn/hamlet/internal/fieldcode"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// replicaDict is a store's replica numbering, for the codec tests.
type replicaDict struct {
	ids []syncproto.ReplicaID
	idx map[syncproto.ReplicaID]int64
}

func (d *replicaDict) index(r syncproto.ReplicaID) (int64, error) {
	if i, ok := d.idx[r]; ok {
		return i, nil
	}
	d.ids = append(d.ids, r)
	d.idx[r] = int64(len(d.ids))
	return int64(len(d.ids)), nil
}

func (d *replicaDict) replica(i int64) (syncproto.ReplicaID, error) {
	if i < 1 || int(i) > len(d.ids) {
		return syncproto.ReplicaID{}, fmt.Errorf("replica %d unknown", i)
	}
	return d.ids[i-1], nil
}

func randomVersions(rng *rand.Rand, reps []syncproto.ReplicaID) map[string]syncproto.Version {
	names := []string{"a_field_no_build_knows", syncproto.TombstoneField}
	for c := 1; c < fieldcode.Len(); c++ {
		n, _ := fieldcode.Name(uint64(c))
		names = append(names, n)
	}
	vs := map[string]syncproto.Version{}
	for range 1 + rng.IntN(20) {
		f := names[rng.IntN(len(names))]
		var v syncproto.Version
		switch rng.IntN(5) {
		case 0:
			v.Value = syncproto.Null()
		case 1:
			v.Value = syncproto.Bool(rng.IntN(2) == 0)
		case 2:
			v.Value = syncproto.Int(rng.Int64() - rng.Int64())
		case 3:
			v.Value = syncproto.Float(rng.NormFloat64() * 1e6)
		case 4:
			v.Value = syncproto.String(fmt.Sprintf("Nguyễn Văn %d 0912345678", rng.Int()))
		}
		v.HLC = syncproto.MakeHLC(1_700_000_000_000+rng.Int64N(1e10), uint16(rng.IntN(5)))
		v.Dot = syncproto.Dot{Replica: reps[rng.IntN(len(reps))], Seq: 1 + rng.Uint64N(1<<40)}
		switch rng.IntN(3) {
		case 1: // the writer's own previous write
			v.Base = syncproto.Dot{Replica: v.Dot.Replica, Seq: v.Dot.Seq - rng.Uint64N(v.Dot.Seq)}
		case 2:
			v.Base = syncproto.Dot{Replica: reps[rng.IntN(len(reps))], Seq: 1 + rng.Uint64N(1<<40)}
		}
		vs[f] = v
	}
	return vs
}

// rowTable is a row table as the stores hold it: each field's value as
// SQLValue writes it, read back as the driver gives it.
type rowTable map[string]any

func (t rowTable) get(f string) (any, bool) { x, ok := t[f]; return x, ok }

// materialise is the row table a store writes for vs: every field, or,
// with rng, a random share of them, some holding another value (the
// server's hamlet_code of a child row, a deleted flag stored as false).
// It draws from rng in field order, so a seed makes the same row table
// every run.
func materialise(rng *rand.Rand, vs map[string]syncproto.Version) rowTable {
	t := rowTable{}
	for _, f := range slices.Sorted(maps.Keys(vs)) {
		v := vs[f]
		switch {
		case rng == nil:
			t[f] = SQLValue(v.Value)
		case rng.IntN(4) == 0:
		case rng.IntN(4) == 0:
			t[f] = "something else"
		default:
			t[f] = SQLValue(v.Value)
		}
	}
	return t
}

// The current format round-trips every kind and base shape, with values
// in the row table or not; blobs of the formats earlier builds wrote
// (compact 0xc1, msgpack) still decode to the same versions; and each
// format is the smaller than the one before.
func TestVersionsRoundTripAndOldFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 5))
	reps := []syncproto.ReplicaID{uuid.New(), uuid.New(), uuid.New()}
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	var oldBytes, compactBytes, newBytes, inlineBytes int
	for i := range 500 {
		vs := randomVersions(rng, reps)
		tbl := materialise(rng, vs)
		blob, err := Encode(nil, vs, d.index, tbl.get)
		require.NoError(t, err)
		require.Equal(t, byte(versionsColumns), blob[0])
		got, err := Decode(blob, d.replica, tbl.get)
		require.NoError(t, err, i)
		require.Equal(t, vs, got, i)

		inline, err := Encode(nil, vs, d.index, nil)
		require.NoError(t, err)
		got, err = Decode(inline, d.replica, nil)
		require.NoError(t, err, i)
		require.Equal(t, vs, got, "every value in the blob, case %d", i)

		cmp, err := encodeVersionsCompact(nil, vs, d.index)
		require.NoError(t, err)
		old, err := encodeVersionsMsgpack(nil, vs, d.index)
		require.NoError(t, err)
		for _, b := range [][]byte{cmp, old} {
			got, err = Decode(b, d.replica, nil)
			require.NoError(t, err, i)
			require.Equal(t, vs, got, "an earlier format, case %d", i)
		}
		// The snapshot's list decoder reads every format alike.
		for _, b := range [][]byte{blob, inline, cmp, old} {
			list, err := DecodeList(nil, b, d.replica, tbl.get)
			require.NoError(t, err, i)
			require.Len(t, list, len(vs))
			for j, fv := range list {
				require.Equal(t, vs[fv.Field], fv.Version, "case %d field %s", i, fv.Field)
				if j > 0 {
					require.Less(t, list[j-1].Field, fv.Field)
				}
			}
		}
		oldBytes += len(old)
		compactBytes += len(cmp)
		newBytes += len(blob)
		inlineBytes += len(inline)

		// Appending to a buffer keeps what it held.
		pre := []byte("xy")
		blob2, err := Encode(pre, vs, d.index, tbl.get)
		require.NoError(t, err)
		require.Equal(t, append([]byte("xy"), blob...), blob2)
	}
	require.Less(t, compactBytes, oldBytes*2/3, "compact %d bytes, msgpack %d", compactBytes, oldBytes)
	require.Less(t, inlineBytes, compactBytes, "values inline %d bytes, compact %d", inlineBytes, compactBytes)
	require.Less(t, newBytes, inlineBytes*9/10, "values in the row table %d bytes, inline %d", newBytes, inlineBytes)
	empty, err := Encode(nil, nil, d.index, nil)
	require.NoError(t, err)
	got, err := Decode(empty, d.replica, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

// A value is left out of the blob only when the row table holds it to the
// bit; a blob that needs a value the row table lost is an error, not a
// made-up value.
func TestVersionsTakeOnlyExactValuesFromTheRowTable(t *testing.T) {
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	r := uuid.New()
	ver := func(v syncproto.Value) syncproto.Version {
		return syncproto.Version{Value: v, HLC: syncproto.MakeHLC(1_700_000_000_000, 0), Dot: syncproto.Dot{Replica: r, Seq: 7}}
	}
	for _, tc := range []struct {
		name    string
		v       syncproto.Value
		col     any
		inTable bool
	}{
		{"string", syncproto.String("0912345678"), "0912345678", true},
		{"string as bytes", syncproto.String("Ấp 1"), []byte("Ấp 1"), true},
		{"phone the column would make a number", syncproto.String("0912345678"), int64(912345678), false},
		{"int", syncproto.Int(4), int64(4), true},
		{"float", syncproto.Float(9.5), 9.5, true},
		{"float stored as an integer", syncproto.Float(9), int64(9), true},
		{"negative zero", syncproto.Float(math.Copysign(0, -1)), 0.0, false},
		{"negative zero, the column told as given", syncproto.Float(math.Copysign(0, -1)), math.Copysign(0, -1), false},
		{"infinity", syncproto.Float(math.Inf(1)), math.Inf(1), false},
		{"another value", syncproto.String("Ấp 2"), "Ấp 1", false},
		{"a NULL column", syncproto.String(""), nil, false},
		{"null costs nothing", syncproto.Null(), nil, false},
		{"bool is in the flags", syncproto.Bool(true), int64(1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := map[string]syncproto.Version{"phone": ver(tc.v)}
			tbl := rowTable{"phone": tc.col}
			blob, err := Encode(nil, vs, d.index, tbl.get)
			require.NoError(t, err)
			r := &compact.Reader{B: blob[1:]}
			r.Uvarint()
			r.Uvarint()
			_, err = r.Name()
			require.NoError(t, err)
			flags := r.Byte()
			require.Equal(t, tc.inTable, flags&flagInTable != 0, "flags %#x", flags)
			got, err := Decode(blob, d.replica, tbl.get)
			require.NoError(t, err)
			require.Equal(t, vs, got)
			if tc.inTable {
				_, err = Decode(blob, d.replica, rowTable{}.get)
				require.ErrorContains(t, err, "the row table holds no value for it")
				_, err = Decode(blob, d.replica, rowTable{"phone": nil}.get)
				require.ErrorContains(t, err, "the row table holds no value for it")
			}
		})
	}
}

// A damaged blob of either compact format is an error, never a panic.
func FuzzDecodeVersionsCompact(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	reps := []syncproto.ReplicaID{uuid.New(), uuid.New()}
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	for range 8 {
		vs := randomVersions(rng, reps)
		blob, err := Encode(nil, vs, d.index, materialise(rng, vs).get)
		require.NoError(f, err)
		f.Add(blob)
		if blob, err = encodeVersionsCompact(nil, vs, d.index); err == nil {
			f.Add(blob)
		}
	}
	cols := rowTable{"head_name": "Nguyễn Văn A", "members_count": int64(3), "lat": 9.17}.get
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) == 0 || blob[0] != versionsColumns {
			if len(blob) > 0 {
				blob[0] = versionsCompact
			}
		}
		_, _ = Decode(blob, d.replica, cols)
		_, _ = DecodeList(nil, blob, d.replica, cols)
	})
}

// The fields of one edit share a writer and a millisecond and run in
// sequence: each costs its name, its flags and three one-byte deltas, its
// value being the row table's. Edits at other times and by other writers
// round-trip too.
func TestVersionsOfOneEditCostAFewBytesAField(t *testing.T) {
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	writer, other := uuid.New(), uuid.New()
	names := []string{"head_name", "address", "phone", "members_count", "notes", "registered_on", "hamlet_code"}
	vs := map[string]syncproto.Version{}
	tbl := rowTable{}
	for i, f := range names {
		v := syncproto.Version{Value: syncproto.String(fmt.Sprintf("giá trị %d", i)), HLC: syncproto.MakeHLC(1_780_000_000_000, uint16(300+i)),
			Dot: syncproto.Dot{Replica: writer, Seq: 1_000_000 + uint64(i)}, Base: syncproto.Dot{Replica: writer, Seq: 1_000_000 + uint64(i) - 7}}
		vs[f] = v
		tbl[f] = v.Value.AsString()
	}
	blob, err := Encode(nil, vs, d.index, tbl.get)
	require.NoError(t, err)
	got, err := Decode(blob, d.replica, tbl.get)
	require.NoError(t, err)
	require.Equal(t, vs, got)
	// The header and the first field's absolute clock and seq, then
	// name, flags, ms, logical, seq and base deltas: 6 bytes a field.
	require.LessOrEqual(t, len(blob), 24+6*len(names), "%x", blob)

	// Another writer's field, days later, and a field of a logical counter
	// that went down in the same millisecond.
	vs["notes"] = syncproto.Version{Value: syncproto.Null(), HLC: syncproto.MakeHLC(1_780_300_000_000, 2), Dot: syncproto.Dot{Replica: other, Seq: 5}}
	v := vs["phone"]
	v.HLC = syncproto.MakeHLC(1_780_000_000_000, 1)
	vs["phone"] = v
	blob, err = Encode(nil, vs, d.index, tbl.get)
	require.NoError(t, err)
	got, err = Decode(blob, d.replica, tbl.get)
	require.NoError(t, err)
	require.Equal(t, vs, got)
}

package agent

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func randomState(rng *rand.Rand) *rowState {
	reps := []syncproto.ReplicaID{uuid.New(), uuid.New(), uuid.New()}
	s := newRowState("households", uuid.New(), "32002-01")
	names := []string{"hamlet_code", "head_name", "phone", "members_count", "active", "lat", "_deleted", "a_field_no_build_knows"}
	ver := func() syncproto.Version {
		var v syncproto.Version
		switch rng.IntN(5) {
		case 0:
			v.Value = syncproto.Null()
		case 1:
			v.Value = syncproto.Bool(rng.IntN(2) == 0)
		case 2:
			v.Value = syncproto.Int(rng.Int64() - rng.Int64())
		case 3:
			v.Value = syncproto.Float(rng.NormFloat64())
		default:
			v.Value = syncproto.String(fmt.Sprintf("Trần Thị %d", rng.Int()))
		}
		v.HLC = syncproto.MakeHLC(1_700_000_000_000+rng.Int64N(1e10), uint16(rng.IntN(3)))
		v.Dot = syncproto.Dot{Replica: reps[rng.IntN(3)], Seq: 1 + rng.Uint64N(1<<40)}
		switch rng.IntN(3) {
		case 1:
			v.Base = syncproto.Dot{Replica: v.Dot.Replica, Seq: v.Dot.Seq - rng.Uint64N(v.Dot.Seq)}
		case 2:
			v.Base = syncproto.Dot{Replica: reps[rng.IntN(3)], Seq: 1 + rng.Uint64N(1<<40)}
		}
		return v
	}
	for range 1 + rng.IntN(len(names)) {
		v := ver()
		s.cur[names[rng.IntN(len(names))]] = &v
	}
	for range rng.IntN(6) {
		s.hist = append(s.hist, histEntry{Field: names[rng.IntN(len(names))], Ver: ver(), Lost: rng.IntN(2) == 0})
	}
	return s
}

// rowTable is what a row table would hold of s: its current values whose
// kind is the column's (as Replica.stored gives), for the fields in cols.
func rowTable(s *rowState, cols map[string]syncproto.Kind) (versions.Columns, map[string]any) {
	held := map[string]any{}
	for f, k := range cols {
		if v := s.cur[f]; v != nil && v.Value.Kind() == k {
			held[f] = columnValue(v.Value)
		}
	}
	return func(f string) (any, bool) { x, ok := held[f]; return x, ok }, held
}

var testCols = map[string]syncproto.Kind{"hamlet_code": syncproto.KindString, "head_name": syncproto.KindString,
	"phone": syncproto.KindString, "members_count": syncproto.KindInt, "lat": syncproto.KindFloat}

// The row state round-trips (values, bases, history, lost marks) in the
// current format, its current values read back from the row table; the
// compact and msgpack states of earlier builds still decode to the same;
// each format is smaller than the one before.
func TestStateCompactRoundTripAndOldFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var oldB, compactB, newB int
	for i := range 500 {
		s := randomState(rng)
		cols, _ := rowTable(s, testCols)
		blob, err := s.encode(cols)
		require.NoError(t, err)
		require.Equal(t, byte(stateColumns), blob[0])
		got, err := decodeState(s.table, s.id, s.scope, blob, cols)
		require.NoError(t, err, i)
		require.Equal(t, s, got, i)

		encodeCompactState = true
		cb, err := s.encode(cols)
		encodeCompactState = false
		require.NoError(t, err)
		require.Equal(t, byte(stateCompact), cb[0])
		got, err = decodeState(s.table, s.id, s.scope, cb, nil)
		require.NoError(t, err, i)
		require.Equal(t, s, got, "compact format, case %d", i)

		encodeMsgpackState = true
		old, err := s.encode(cols)
		encodeMsgpackState = false
		require.NoError(t, err)
		got, err = decodeState(s.table, s.id, s.scope, old, nil)
		require.NoError(t, err, i)
		require.Equal(t, s, got, "old format, case %d", i)
		oldB += len(old)
		compactB += len(cb)
		newB += len(blob)
	}
	require.Less(t, compactB, oldB*3/4, "compact %d bytes, msgpack %d", compactB, oldB)
	require.Less(t, newB, compactB, "current %d bytes, compact %d", newB, compactB)
}

// What the row table holds is left out of the blob and read from it; what
// it cannot hold exactly stays in the blob: −0.0 and NaN (SQLite gives
// back 0 and NULL), a string in an INTEGER column (affinity would make it
// a number), a field without a column, bools and null.
func TestStateValuesInRowTable(t *testing.T) {
	rep := uuid.New()
	s := newRowState("households", uuid.New(), "32002-01")
	put := func(f string, v syncproto.Value) {
		s.cur[f] = &syncproto.Version{Value: v, HLC: syncproto.MakeHLC(1_700_000_000_000, 0), Dot: syncproto.Dot{Replica: rep, Seq: uint64(len(s.cur) + 1)}}
	}
	put("head_name", syncproto.String("Nguyễn Văn Đức, ấp Tân Thành"))
	put("members_count", syncproto.Int(7))
	put("lat", syncproto.Float(math.Copysign(0, -1)))
	put("lng", syncproto.Float(math.NaN()))
	put("phone", syncproto.Int(912345678)) // not the TEXT column's kind
	put("a_field_no_build_knows", syncproto.String("giữ trong blob"))
	put("active", syncproto.Bool(true))
	put("notes", syncproto.Null())
	cols, held := rowTable(s, map[string]syncproto.Kind{"head_name": syncproto.KindString, "members_count": syncproto.KindInt,
		"lat": syncproto.KindFloat, "lng": syncproto.KindFloat, "phone": syncproto.KindString, "active": syncproto.KindInt, "notes": syncproto.KindString})
	blob, err := s.encode(cols)
	require.NoError(t, err)
	require.NotContains(t, string(blob), "Tân Thành", "the row table holds the name")
	require.Contains(t, string(blob), "giữ trong blob", "no column: the blob holds it")

	got, err := decodeState(s.table, s.id, s.scope, blob, cols)
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Đức, ấp Tân Thành", got.str("head_name"))
	require.Equal(t, int64(7), got.cur["members_count"].Value.AsInt())
	require.True(t, math.Signbit(got.cur["lat"].Value.AsFloat()), "−0.0 kept its sign")
	require.True(t, math.IsNaN(got.cur["lng"].Value.AsFloat()), "NaN kept")
	require.Equal(t, syncproto.Int(912345678), got.cur["phone"].Value)
	require.Equal(t, "giữ trong blob", got.str("a_field_no_build_knows"))
	require.True(t, got.cur["active"].Value.AsBool())
	require.True(t, got.cur["notes"].Value.IsNull())

	// Read back as SQLite would give them: −0.0 as 0, NaN as NULL, the
	// int in a TEXT column as text. The blob's own copies win.
	sqlite := func(f string) (any, bool) {
		switch f {
		case "lat":
			return int64(0), true
		case "lng", "notes":
			return nil, true
		case "phone":
			return "912345678", true
		}
		x, ok := held[f]
		return x, ok
	}
	got2, err := decodeState(s.table, s.id, s.scope, blob, sqlite)
	require.NoError(t, err)
	require.Equal(t, got, got2)

	// Without the row table the values it holds are not there: an error
	// (a damaged record), never a row with them missing.
	_, err = decodeState(s.table, s.id, s.scope, blob, nil)
	require.ErrorIs(t, err, errDamagedRecord)
	require.ErrorContains(t, err, "the row table holds no value")
}

// A damaged compact state is an error, never a panic.
func FuzzDecodeStateCompact(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		b, err := randomState(rng).encode(nil)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) == 0 {
			return
		}
		blob[0] = stateCompact
		_, _ = decodeState("households", uuid.New(), "32002-01", blob, nil)
		blob[0] = stateColumns
		_, _ = decodeState("households", uuid.New(), "32002-01", blob, func(string) (any, bool) { return "x", true })
	})
}

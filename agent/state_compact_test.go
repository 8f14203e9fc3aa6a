package agent

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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

// The compact row state round-trips (values, bases, history, lost marks);
// the msgpack state of earlier builds still decodes to the same; and the
// compact one is smaller.
func TestStateCompactRoundTripAndOldFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var oldB, newB int
	for i := range 500 {
		s := randomState(rng)
		blob, err := s.encode()
		require.NoError(t, err)
		require.Equal(t, byte(stateCompact), blob[0])
		got, err := decodeState(s.table, s.id, s.scope, blob)
		require.NoError(t, err, i)
		require.Equal(t, s, got, i)

		encodeMsgpackState = true
		old, err := s.encode()
		encodeMsgpackState = false
		require.NoError(t, err)
		got, err = decodeState(s.table, s.id, s.scope, old)
		require.NoError(t, err, i)
		require.Equal(t, s, got, "old format, case %d", i)
		oldB += len(old)
		newB += len(blob)
	}
	require.Less(t, newB, oldB*3/4, "compact %d bytes, msgpack %d", newB, oldB)
}

// A damaged compact state is an error, never a panic.
func FuzzDecodeStateCompact(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		b, err := randomState(rng).encode()
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) == 0 {
			return
		}
		blob[0] = stateCompact
		_, _ = decodeState("households", uuid.New(), "32002-01", blob)
	})
}

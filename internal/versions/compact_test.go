package versions

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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

// The compact format round-trips every kind and base shape; blobs of the
// msgpack format earlier builds wrote still decode to the same versions;
// and the compact blob is the smaller.
func TestVersionsCompactRoundTripAndOldFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 5))
	reps := []syncproto.ReplicaID{uuid.New(), uuid.New(), uuid.New()}
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	var oldBytes, newBytes int
	for i := range 500 {
		vs := randomVersions(rng, reps)
		blob, err := Encode(nil, vs, d.index)
		require.NoError(t, err)
		require.Equal(t, byte(versionsCompact), blob[0])
		got, err := Decode(blob, d.replica)
		require.NoError(t, err, i)
		require.Equal(t, vs, got, i)

		old, err := encodeVersionsMsgpack(nil, vs, d.index)
		require.NoError(t, err)
		got, err = Decode(old, d.replica)
		require.NoError(t, err, i)
		require.Equal(t, vs, got, "old format, case %d", i)
		// The snapshot's list decoder reads both formats alike.
		for _, b := range [][]byte{blob, old} {
			list, err := DecodeList(nil, b, d.replica)
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
		newBytes += len(blob)

		// Appending to a buffer keeps what it held.
		pre := []byte("xy")
		blob2, err := Encode(pre, vs, d.index)
		require.NoError(t, err)
		require.Equal(t, append([]byte("xy"), blob...), blob2)
	}
	require.Less(t, newBytes, oldBytes*2/3, "compact %d bytes, msgpack %d", newBytes, oldBytes)
	empty, err := Encode(nil, nil, d.index)
	require.NoError(t, err)
	got, err := Decode(empty, d.replica)
	require.NoError(t, err)
	require.Empty(t, got)
}

// A damaged compact blob is an error, never a panic.
func FuzzDecodeVersionsCompact(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	reps := []syncproto.ReplicaID{uuid.New(), uuid.New()}
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	for range 8 {
		blob, err := Encode(nil, randomVersions(rng, reps), d.index)
		require.NoError(f, err)
		f.Add(blob)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) == 0 {
			return
		}
		blob[0] = versionsCompact
		_, _ = Decode(blob, d.replica)
	})
}

package versions

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// EncodeList writes the bytes Encode writes for the same versions, and the
// format itself is unchanged: the digest of 500 seeded blobs is the one
// the map-only encoder of commit aef8475 wrote (same seed, same inputs).
func TestEncodeListIsEncode(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	var reps []syncproto.ReplicaID
	for range 3 {
		var r syncproto.ReplicaID
		for i := range r {
			r[i] = byte(rng.Uint32())
		}
		reps = append(reps, r)
	}
	d := &replicaDict{idx: map[syncproto.ReplicaID]int64{}}
	h := sha256.New()
	for i := range 500 {
		vs := randomVersions(rng, reps)
		tbl := materialise(rng, vs)
		blob, err := Encode(nil, vs, d.index, tbl.get)
		require.NoError(t, err)
		h.Write(blob)
		list := make([]FieldVersion, 0, len(vs))
		for f, v := range vs {
			list = append(list, FieldVersion{Field: f, Version: v})
		}
		slices.SortFunc(list, func(a, b FieldVersion) int { return strings.Compare(a.Field, b.Field) })
		got, err := EncodeList([]byte("xy"), list, d.index, tbl.get)
		require.NoError(t, err)
		require.Equal(t, append([]byte("xy"), blob...), got, "case %d", i)
		if len(list) > 1 {
			list[0], list[1] = list[1], list[0]
			_, err := EncodeList(nil, list, d.index, tbl.get)
			require.Error(t, err, "fields out of order, case %d", i)
		}
	}
	require.Equal(t, "840265b9b52281c663a2fc2e8214ed0a96c727f9602d1ad5260b772d286b8457", hex.EncodeToString(h.Sum(nil)))
}

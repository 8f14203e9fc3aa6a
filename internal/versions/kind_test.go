package versions

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// A stored kind that is no Kind comes from a damaged row: every reader
// refuses it instead of wrapping it to another kind (259 read as a float
// was found by pgstore's fuzz target; these readers had the same flaw).
func TestDamagedKindIsRefused(t *testing.T) {
	for _, kind := range []int64{-1, 5, 259, 1 << 40} {
		_, err := FromSQL(kind, float64(1))
		require.ErrorContains(t, err, "bad stored value", "FromSQL kind %d", kind)

		// The older msgpack versions format: name, kind, value, hlc,
		// origin, seq, base origin, base seq.
		blob, err := msgpack.Marshal([]any{"head_name", kind, float64(1), uint64(7), uint64(1), uint64(1), uint64(0), uint64(0)})
		require.NoError(t, err)
		one := func(int64) (syncproto.ReplicaID, error) { return syncproto.ReplicaID{1}, nil }
		_, err = Decode(blob, one, nil)
		require.ErrorContains(t, err, "bad stored value", "Decode kind %d", kind)
		_, err = DecodeList(nil, blob, one, nil)
		require.ErrorContains(t, err, "bad stored value", "DecodeList kind %d", kind)
	}
	for kind := syncproto.KindNull; kind <= syncproto.KindString; kind++ {
		_, err := FromSQL(int64(kind), nil)
		require.NoError(t, err, "kind %d", kind)
	}
}

package syncproto

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Changes.Horizon is a trailing field: it round-trips, and a Changes from a
// server that predates it (6 elements) decodes with Horizon 0.
func TestChangesHorizonTrailing(t *testing.T) {
	b, err := Encode(nil, &Changes{From: 1, To: 9, Horizon: 42})
	require.NoError(t, err)
	m, err := Decode(b, DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, uint64(42), m.(*Changes).Horizon)

	require.Equal(t, byte(0x97), b[0], "a fixarray of 7")
	require.Equal(t, byte(42), b[len(b)-1], "Horizon is the last element")
	old := append([]byte{0x96}, b[1:len(b)-1]...)
	m, err = Decode(old, DefaultLimits)
	require.NoError(t, err)
	require.Zero(t, m.(*Changes).Horizon)
	require.Equal(t, uint64(9), m.(*Changes).To)
}

package syncproto

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

// Pull.Scopes is a trailing element: absent, a Pull's bytes are those of
// every earlier client; present, it round-trips (docs/PROTOCOL.md §14).
func TestPullScopesWire(t *testing.T) {
	tests := []struct {
		name string
		m    *Pull
		hex  string
	}{
		{"no scopes: the 4-element pull", &Pull{Cursor: 9000, Limit: 2000}, "9405cd2328cd07d000"},
		{"back-fill of one hamlet", &Pull{Scopes: []string{"32002-03"}}, "950500000091a833323030322d3033"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(nil, tc.m)
			require.NoError(t, err)
			require.Equal(t, tc.hex, hex.EncodeToString(b))
			m, err := Decode(b, DefaultLimits)
			require.NoError(t, err)
			require.Equal(t, tc.m, m)
		})
	}
	// A peer that appends more after Scopes is still understood.
	b, err := hex.DecodeString("960500000091a833323030322d3033c0")
	require.NoError(t, err)
	m, err := Decode(b, DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, []string{"32002-03"}, m.(*Pull).Scopes)
}

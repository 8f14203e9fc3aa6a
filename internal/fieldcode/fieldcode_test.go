package fieldcode

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The list is frozen: blobs in databases name fields by position.
func TestCodesFrozen(t *testing.T) {
	for code, name := range map[uint64]string{1: "_deleted", 9: "hamlet_code", 12: "head_name", 39: "volunteer_id", 40: "uses_camau_g"} {
		got, ok := Name(code)
		require.True(t, ok)
		require.Equal(t, name, got)
		require.Equal(t, code, Code(name))
	}
	_, ok := Name(0)
	require.False(t, ok)
	_, ok = Name(uint64(Len()))
	require.False(t, ok)
	require.Zero(t, Code("no_such_field"))
	require.Len(t, codes(), Len()-1, "no name listed twice")
}

package sqlread

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRebind(t *testing.T) {
	require.Equal(t, "SELECT a FROM t WHERE x = $1 AND y IN ($2,$3) AND z = '?'",
		Rebind("SELECT a FROM t WHERE x = ? AND y IN (?,?) AND z = '?'"))
	require.Equal(t, "SELECT 1", Rebind("SELECT 1"))
}

package agent

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// Overlapping clones in one process (tests, or two replicas) leave the
// collector as it was once the last one ends, not with the clone's
// settings.
func TestCloneGCRestoresAfterTheLastClone(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	before, limit := gcPercent(), debug.SetMemoryLimit(-1)
	endA := cloneGC()
	endB := cloneGC()
	require.Equal(t, cloneGCPercent, gcPercent())
	endA()
	require.Equal(t, cloneGCPercent, gcPercent(), "B is still cloning")
	require.EqualValues(t, cloneHeapLimit, debug.SetMemoryLimit(-1))
	endB()
	require.Equal(t, before, gcPercent())
	require.Equal(t, limit, debug.SetMemoryLimit(-1))
}

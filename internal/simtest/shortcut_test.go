package simtest

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStaleWritersShortcut: staleWriters' shortcut (no team has lost a
// hamlet, so no laptop can hold one its team lost) answers as reading
// the teams and every laptop's enrollment does. Wide seeds, where teams
// gain and lose hamlets, run with checkShortcuts on (staleWriters reads
// anyway and fails the schedule when the shortcut would have hidden a
// stale writer) and then with it off, and must write the same trace.
func TestStaleWritersShortcut(t *testing.T) {
	n := uint64(12)
	if testing.Short() {
		n = 4
	}
	for seed := uint64(1); seed <= n; seed++ {
		cfg := Config{Seed: seed, Wide: true, Silent: seed%2 == 1, Truncate: seed%3 == 0}
		checkShortcuts = true
		read := Run(cfg)
		checkShortcuts = false
		require.NoError(t, errOf(read.Failure), "seed %d, reading", seed)
		short := Run(cfg)
		require.NoError(t, errOf(short.Failure), "seed %d", seed)
		if !bytes.Equal(read.Trace, short.Trace) {
			t.Fatalf("seed %d: the shortcut's trace differs from the read one at\n%s", seed, firstDiff(read.Trace, short.Trace))
		}
	}
}

package agent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChunkLimitSteps: the limit a clone asks for after cuts and whole
// chunks, under each cap SyncOptions.SnapshotLimit may set.
func TestChunkLimitSteps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cap   uint32
		start uint32
		steps string // c: a connection cut before storing; r: a chunk received whole
		want  []uint32
	}{
		{"cuts from the default", 0, 0, "cccccc", []uint32{500, 250, 125, 62, 50, 50}},
		{"whole chunks grow it back", 0, 50, "rrrrrrrrrrrrrrrrrrrrrr", []uint32{50, 50, 50, 100, 100, 100, 100, 200, 200, 200, 200, 400, 400, 400, 400, 800, 800, 800, 800, 0, 0, 0}},
		{"the first step goes back to the default", 0, 500, "rrrr", []uint32{500, 500, 500, 0}},
		{"a cut resets the count", 0, 100, "rrrcrrr", []uint32{100, 100, 100, 50, 50, 50, 50}},
		{"a cap below the floor stays", 3, 0, "ccr", []uint32{3, 3, 3}},
		{"a cap above the first step", 1000, 0, "cc", []uint32{500, 250}},
		{"a cap below the first step halves", 300, 0, "cc", []uint32{150, 75}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &chunkLimit{cap: tc.cap, stored: tc.start}
			l.cur.Store(tc.start)
			var got []uint32
			for _, s := range tc.steps {
				if s == 'c' {
					l.cut()
				} else {
					l.received()
				}
				got = append(got, l.ask())
			}
			require.Equal(t, tc.want, got)
		})
	}
}

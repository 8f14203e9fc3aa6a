package agent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChunkLimitSteps: the limit a clone (or a pull) asks for after cuts
// and whole chunks (pages), under each cap SyncOptions.SnapshotLimit (or
// PullLimit) may set.
func TestChunkLimitSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		steps *limitSteps
		cap   uint32
		start uint32
		seq   string // c: a connection cut before storing; r: a chunk received whole
		want  []uint32
	}{
		{"cuts from the default", cloneSteps, 0, 0, "cccccc", []uint32{500, 250, 125, 62, 50, 50}},
		{"whole chunks grow it back", cloneSteps, 0, 50, "rrrrrrrrrrrrrrrrrrrrrr", []uint32{50, 50, 50, 100, 100, 100, 100, 200, 200, 200, 200, 400, 400, 400, 400, 800, 800, 800, 800, 0, 0, 0}},
		{"the first step goes back to the default", cloneSteps, 0, 500, "rrrr", []uint32{500, 500, 500, 0}},
		{"a cut resets the count", cloneSteps, 0, 100, "rrrcrrr", []uint32{100, 100, 100, 50, 50, 50, 50}},
		{"a cap below the floor stays", cloneSteps, 3, 0, "ccr", []uint32{3, 3, 3}},
		{"a cap above the first step", cloneSteps, 1000, 0, "cc", []uint32{500, 250}},
		{"a cap below the first step halves", cloneSteps, 300, 0, "cc", []uint32{150, 75}},
		{"a pull's pages: cuts from the default", pullSteps, 0, 0, "cccccc", []uint32{1000, 500, 250, 125, 100, 100}},
		{"a pull's pages grow back", pullSteps, 0, 250, "rrrrrrrrrrrr", []uint32{250, 250, 250, 500, 500, 500, 500, 1000, 1000, 1000, 1000, 0}},
		{"a pull's pages under SyncOptions.PullLimit", pullSteps, 3000, 0, "ccr", []uint32{1000, 500, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &chunkLimit{steps: tc.steps, cap: tc.cap, stored: tc.start}
			l.cur.Store(tc.start)
			var got []uint32
			for _, s := range tc.seq {
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

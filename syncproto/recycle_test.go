package syncproto

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecycledChangesDecodeAlike: a chunk decoded into the changes of an
// earlier one given back (RecycleChanges) decodes alike, and what the
// receiver copied out of the earlier chunk (its values' strings) is left
// as it was.
func TestRecycledChangesDecodeAlike(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	first := &SnapshotChunk{Head: 9, Total: 600, More: true, Rows: sampleChanges(rng, 300)}
	second := &SnapshotChunk{Head: 9, Rows: sampleChanges(rng, 200)}
	f1, err := Encode(nil, first)
	require.NoError(t, err)
	f2, err := Encode(nil, second)
	require.NoError(t, err)

	got1, err := Decode(f1, DefaultLimits)
	require.NoError(t, err)
	rows1 := got1.(*SnapshotChunk).Rows
	require.Equal(t, first.Rows, rows1)
	kept := slices.Clone(rows1) // what a receiver copies out: values, strings
	RecycleChanges(rows1)

	got2, err := Decode(f2, DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, second.Rows, got2.(*SnapshotChunk).Rows)
	require.Equal(t, first.Rows, kept)
}

package syncproto

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// A delete that won over an edit it never saw is recorded by the
// deleter's HiddenEdit: whatever the clocks, the marker loses to the
// tombstone on every replica (a conflict, lost to the delete), and
// writing false again after it (a restore) installs and resolves it.
func TestHiddenEditLosesToItsTombAndIsRestorable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	row := uuid.New()
	deleter, editor := uuid.New(), uuid.New()
	for i := 0; i < 5000; i++ {
		tomb := Version{Value: Bool(true), HLC: HLC(1 + rng.Uint64N(1<<40)), Dot: Dot{deleter, 1 + rng.Uint64N(100)}}
		if rng.IntN(2) == 0 { // the delete overwrote an earlier restore
			tomb.Base = Dot{editor, 1 + rng.Uint64N(100)}
		}
		edit := &Change{Table: "households", Row: row, Field: "phone", Value: String("0912345678"),
			HLC: HLC(1 + rng.Uint64N(1<<40)), Dot: Dot{editor, 200 + rng.Uint64N(100)}}
		hidden := HiddenEdit(tomb, edit, "32002-01", Dot{deleter, tomb.Dot.Seq + 1})
		require.Equal(t, LoseToConcurrent, Resolve(&tomb, &hidden), "case %d", i)
		require.Less(t, hidden.HLC, tomb.HLC)
		if edit.HLC < tomb.HLC {
			require.Equal(t, edit.HLC, hidden.HLC, "stamped at the edit")
		}
		c := ConflictFor(LoseToConcurrent, &tomb, &hidden)
		require.Equal(t, FieldKey{"households", row, TombstoneField}, c.Key)
		require.Equal(t, tomb, c.Winner)

		restore := Change{Table: "households", Row: row, Field: TombstoneField, Value: Bool(false), HLC: tomb.HLC + 1 + HLC(rng.Uint64N(1000)),
			Dot: Dot{editor, 400}, Base: tomb.Dot}
		require.Equal(t, Install, Resolve(&tomb, &restore))
		require.True(t, c.RestoredBy(&restore))
		require.False(t, c.RestoredBy(&hidden), "the loser itself restores nothing")
		again := restore
		again.Value = Bool(true)
		require.False(t, c.RestoredBy(&again), "another value is not a restore")
		early := restore
		early.HLC = tomb.HLC
		require.False(t, c.RestoredBy(&early), "not after the winner")
	}
}

package main

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestCopiedFolderSameWriteLaterStillWins (helper 215): after a synced
// folder is copied, the copy writes a value to a household and then
// overwrites it; later the original writes the first value again (the
// same row, field, value and base: a write of its own, made after the
// copy's correction), more than the clock bound after it. The copy syncs
// first. The original's write is the latest edit of the field and must win
// on every replica (PROTOCOL §8.6, the clock bound); it must not be taken
// for the copy's earlier write and vanish.
func TestCopiedFolderSameWriteLaterStillWins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		copyWrites [][]string // the copy's two writes, in order
		origWrite  []string   // the original's, later, the same as the copy's first
		check      func(t *testing.T, l *laptop, id string)
	}{
		{
			name:       "phone",
			copyWrites: [][]string{{"edit", "--set", "phone=0911111111"}, {"edit", "--set", "phone=0922222222"}},
			origWrite:  []string{"edit", "--set", "phone=0911111111"},
			check: func(t *testing.T, l *laptop, id string) {
				require.Equal(t, "0911111111", l.household(id)["phone"], "%s: the latest edit of the phone", filepath.Base(l.dir))
			},
		},
		{
			name:       "delete",
			copyWrites: [][]string{{"delete"}, {"restore"}},
			origWrite:  []string{"delete"},
			check: func(t *testing.T, l *laptop, id string) {
				require.Equal(t, true, l.household(id)["deleted"], "%s: the household the original deleted last is deleted", filepath.Base(l.dir))
			},
		},
	} {
		for _, store := range serverStores() {
			t.Run(tc.name+"/"+store.name, func(t *testing.T) {
				ts := store.start(t)
				root := t.TempDir()
				// The original's syncs get their Welcome 400 ms late, so it
				// measures its clock 200 ms behind the copy's: within the
				// clock bound's conditions (round trips under 1 s), as two
				// laptops' measurements may differ on a slow link.
				var lag atomic.Bool
				url := holdingProxy(t, ts.URL, func(_ []byte, answer int) time.Duration {
					if answer == 1 && lag.Load() {
						return 400 * time.Millisecond
					}
					return 0
				})
				a := newLaptop(t, filepath.Join(root, "a"))
				a.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
				id := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Tư")
				a.must("sync")
				b := a.copyTo(filepath.Join(root, "b"))

				for _, w := range tc.copyWrites {
					b.must(append([]string{"household", w[0], id}, w[1:]...)...)
					time.Sleep(20 * time.Millisecond)
				}
				// Later by more than the clock bound (§8.6): of two edits
				// closer than ε, either may win, and with 20 ms the copy's
				// won whenever the original's measurement was behind the
				// copy's (every time through the lagging link; 3 of 6 full
				// runs at load above 30 without it).
				time.Sleep(syncproto.ClockBound + time.Second)
				a.must(append([]string{"household", tc.origWrite[0], id}, tc.origWrite[1:]...)...)

				for i, l := range []*laptop{b, a, b, a} {
					lag.Store(i%2 == 1)
					syncInTurn(t, l)
				}
				fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
				logIfFailed(t, func() {
					for _, l := range []*laptop{a, b, fresh} {
						t.Logf("%s: %v; conflicts %+v", filepath.Base(l.dir), l.household(id), l.conflicts())
					}
				})
				snap := snapshotOf(t, fresh.dir)
				for _, l := range []*laptop{a, b} {
					require.Equal(t, snap, snapshotOf(t, l.dir), "%s equals a fresh clone", l.dir)
				}
				tc.check(t, fresh, id)
			})
		}
	}
}

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderAfterCloneWritesBeforeCopy (helper 213): a volunteer
// records a household and corrects another, then copies her data folder
// before syncing. Both copies hold those writes under the old id; the
// first to sync restamps them at its Welcome, the other pushes them under
// the stamps they were made with. They are one write each: the server
// holds the household once, and neither laptop lists a conflict of a value
// with itself (the server once took the second push for a fork's, sent it
// again under a new id, and each laptop listed one conflict a field). The
// same with the folder copied mid-clone: TestCopiedFolderMidClone.
func TestCopiedFolderAfterCloneWritesBeforeCopy(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"original-first", "copy-first"} {
		t.Run(order, func(t *testing.T) {
			ts := servertest.Start(t)
			home := ts.HamletsA[0]
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			synced := a.mustAdd(home, "Hộ đã đồng bộ")
			a.must("sync")
			added := a.mustAdd(home, "Hộ ghi trước khi chép")
			a.must("household", "edit", synced, "--set", "phone=0966666666")
			b := a.copyTo(filepath.Join(root, "b"))
			first, second := a, b
			if order == "copy-first" {
				first, second = b, a
			}
			syncInTurn(t, first, second, first, second)
			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			n := 0
			for _, h := range fresh.list() {
				if h.Head == "Hộ ghi trước khi chép" {
					n++
					require.Equal(t, added, h.ID)
				}
			}
			require.Equal(t, 1, n, "the household on the server once")
			require.Equal(t, "0966666666", fresh.household(synced)["phone"])
			snap := snapshotOf(t, fresh.dir)
			for _, l := range []*laptop{a, b} {
				require.Zero(t, l.pending())
				require.Empty(t, l.rejected())
				require.Empty(t, l.conflicts(), "%s: a conflict between a write and its own copy", l.dir)
				require.Equal(t, snap, snapshotOf(t, l.dir), "%s equals a fresh clone", l.dir)
			}
		})
	}
}

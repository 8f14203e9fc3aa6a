package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderSameWritesClocksApart (helper 215): a synced folder is
// copied to a laptop whose clock is right, a year ahead (beyond the
// server's skew bound: the server restamps) or a year behind. Both copies
// hold a write made before the copy, and each then writes the same value
// to the same field (the same change under the same sequence), then
// something of its own. Whatever the order of their syncs, every laptop
// ends equal to a fresh clone, with nothing pending or refused and no
// conflict of a value with itself. (Which of the two edits of the address
// wins is TestCopiedFolderLaterEditWins's.)
func TestCopiedFolderSameWritesClocksApart(t *testing.T) {
	t.Parallel()
	for _, shift := range []string{"", "+8760h", "-8760h"} {
		for _, copyFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("shift=%q/copyFirst=%v", shift, copyFirst), func(t *testing.T) {
				ts := servertest.Start(t)
				root := t.TempDir()
				a := newLaptop(t, filepath.Join(root, "a"))
				a.enroll(ts)
				h1 := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Một")
				h2 := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
				a.must("sync")
				a.must("household", "edit", h1, "--set", "notes=trước khi chép")
				b := a.copyTo(filepath.Join(root, "b"))
				if shift != "" {
					b.env = []string{"HAMLET_CLOCK_SHIFT=" + shift, "HAMLET_TEST=1"}
				}
				a.must("household", "edit", h2, "--set", "phone=0933333333")
				b.must("household", "edit", h2, "--set", "phone=0933333333")
				time.Sleep(20 * time.Millisecond)
				b.must("household", "edit", h2, "--set", "address=ấp Hai, bản sao")
				time.Sleep(20 * time.Millisecond)
				a.must("household", "edit", h2, "--set", "address=ấp Hai, bản gốc")

				first, second := a, b
				if copyFirst {
					first, second = b, a
				}
				syncInTurn(t, first, second, first, second)
				fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
				snap := snapshotOf(t, fresh.dir)
				f1, f2 := fresh.household(h1), fresh.household(h2)
				t.Logf("fresh: %v / %v", f1, f2)
				require.Equal(t, "trước khi chép", f1["notes"])
				require.Equal(t, "0933333333", f2["phone"])
				for _, l := range []*laptop{a, b} {
					require.Zero(t, l.pending())
					require.Empty(t, l.rejected())
					for _, c := range l.conflicts() {
						t.Logf("%s: conflict %+v", filepath.Base(l.dir), c)
						require.NotEqual(t, c.Loser.Value, c.Winner.Value, "%s: a conflict of a value with itself", l.dir)
					}
					require.Equal(t, snap, snapshotOf(t, l.dir), "%s equals a fresh clone", l.dir)
				}
			})
		}
	}
}

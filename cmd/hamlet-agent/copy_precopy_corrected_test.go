package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderPreCopyWriteCorrected (helper 215): a volunteer edits a
// household and copies her data folder before syncing, to a laptop whose
// clock is right, a year ahead or a year behind. The original syncs, then
// corrects the edit and syncs again; the copy syncs last, behind, with
// the first edit among its writes. That edit is the one the server holds:
// the correction, made after it, stays on every replica.
func TestCopiedFolderPreCopyWriteCorrected(t *testing.T) {
	t.Parallel()
	for _, shift := range []string{"", "+8760h", "-8760h"} {
		t.Run("shift="+shift, func(t *testing.T) {
			ts := servertest.Start(t)
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			h := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Ba")
			a.must("sync")
			a.must("household", "edit", h, "--set", "notes=lần đầu")
			b := a.copyTo(filepath.Join(root, "b"))
			if shift != "" {
				b.env = []string{"HAMLET_CLOCK_SHIFT=" + shift, "HAMLET_TEST=1"}
			}
			a.must("sync")
			a.must("household", "edit", h, "--set", "notes=sửa lại")
			syncInTurn(t, a, b, a, b)
			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			snap := snapshotOf(t, fresh.dir)
			logIfFailed(t, func() {
				for _, l := range []*laptop{a, b, fresh} {
					t.Logf("%s: conflicts %+v", filepath.Base(l.dir), l.conflicts())
				}
			})
			for _, l := range []*laptop{a, b, fresh} {
				require.Equal(t, "sửa lại", l.household(h)["notes"], "%s: the correction stays", filepath.Base(l.dir))
				require.Equal(t, snap, snapshotOf(t, l.dir), "%s equals a fresh clone", l.dir)
			}
		})
	}
}

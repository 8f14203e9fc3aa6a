package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderLaterEditWins (helper 215): a synced folder is copied to
// a second laptop. The copy edits a household's address, then the
// original edits it otherwise; the original syncs first, then the copy,
// which finds itself behind (a copy) and pushes its edit under a new id.
// The original's edit, made later, must win on every replica, whatever the
// copy's clock (PROTOCOL §8.6). The copy's edit was restamped in the
// interval after the sync that found the copy, so raised to that sync's
// time, above the original's edit.
func TestCopiedFolderLaterEditWins(t *testing.T) {
	t.Parallel()
	for _, shift := range []string{"", "-8760h", "+8760h"} {
		t.Run("copy's clock "+shift, func(t *testing.T) {
			t.Parallel() // each waits out the clock bound
			ts := servertest.Start(t)
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			h := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
			a.must("sync")
			b := a.copyTo(filepath.Join(root, "b"))
			if shift != "" {
				b.env = []string{"HAMLET_CLOCK_SHIFT=" + shift, "HAMLET_TEST=1"}
			}
			b.must("household", "edit", h, "--set", "address=ấp Hai, bản sao (trước)")
			time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
			a.must("household", "edit", h, "--set", "address=ấp Hai, bản gốc (sau)")
			syncInTurn(t, a, b, a, b)
			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			logIfFailed(t, func() {
				for _, l := range []*laptop{a, b, fresh} {
					t.Logf("%s: conflicts %+v", filepath.Base(l.dir), l.conflicts())
				}
			})
			for _, l := range []*laptop{a, b, fresh} {
				require.Equal(t, "ấp Hai, bản gốc (sau)", l.household(h)["address"], "%s: the later edit wins", filepath.Base(l.dir))
			}
			require.NotEmpty(t, a.conflicts(), "the copy's earlier edit is listed lost")
		})
	}
}

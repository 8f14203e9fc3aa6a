package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderLaterEditWinsCopySyncsFirst (helper 217): as
// TestCopiedFolderLaterEditWins, but the copy syncs first, so it is not
// behind (the original is, and forks). The later edit must win, whatever
// the copy's clock and whichever laptop edited last, and the laptop
// whose edit lost lists it in its conflicts (helper 222: the original,
// found behind and forked, listed nothing when the copy's edit was later).
func TestCopiedFolderLaterEditWinsCopySyncsFirst(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		shift     string
		copyLater bool
	}{{"", false}, {"-8760h", false}, {"+8760h", false}, {"", true}, {"-8760h", true}, {"+8760h", true}} {
		shift := c.shift
		t.Run(fmt.Sprintf("copy's clock %s, copy edits later %v", shift, c.copyLater), func(t *testing.T) {
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
			first, later, want := b, a, "ấp Hai, bản gốc (sau)"
			if c.copyLater {
				first, later, want = a, b, "ấp Hai, bản sao (sau)"
			}
			first.must("household", "edit", h, "--set", "address=ấp Hai, trước")
			time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
			later.must("household", "edit", h, "--set", "address="+want)
			time.Sleep(3 * time.Second)
			for _, l := range []*laptop{b, a, b, a} {
				r := l.run("sync")
				t.Logf("sync of %s: exit %d\n%s%s", filepath.Base(l.dir), r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code)
			}
			fresh := newLaptop(t, filepath.Join(root, "fresh"))
			fresh.enroll(ts)
			fresh.must("sync")
			logIfFailed(t, func() {
				for _, l := range []*laptop{a, b, fresh} {
					t.Logf("%s: conflicts %+v", filepath.Base(l.dir), l.conflicts())
				}
			})
			for _, l := range []*laptop{a, b, fresh} {
				require.Equal(t, want, l.household(h)["address"], "%s: the later edit wins", filepath.Base(l.dir))
			}
			listed := false
			for _, cf := range first.conflicts() {
				listed = listed || cf.Row == h && cf.Field == "address" && cf.Loser.Value == "ấp Hai, trước" && cf.Winner.Value == want
			}
			require.True(t, listed, "%s, the laptop whose edit lost, lists it", filepath.Base(first.dir))
		})
	}
}

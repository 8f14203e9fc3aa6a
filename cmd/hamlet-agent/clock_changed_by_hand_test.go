package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A single laptop (no copy) whose clock is changed by hand between two
// syncs, black box (helper 218's review of syncproto.Jumped): laptop X
// syncs with its clock at atSync, edits a household's address with it at
// atEdit, and syncs again with it at atNext (each a HAMLET_CLOCK_SHIFT);
// another laptop with a right clock edits the address 3 s before or after
// X (ε = 2 s). The edit made later in real time wins on every laptop and
// the laptop whose edit lost lists it. Before syncproto.Jumped an edit made
// before the clock was set right from a year behind (or set a year back)
// was interpolated between the two offsets: stamped at the previous sync's
// time, or at the next sync's, it lost to an earlier edit or beat a later
// one.
func TestLaterEditWinsOverAClockChangedByHandBetweenSyncs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                   string
		atSync, atEdit, atNext string
	}{
		{"right, set a year back after the edit", "", "", "-8760h"},
		{"right, set a year back before the edit", "", "-8760h", "-8760h"},
		{"a year behind, set right after the edit", "-8760h", "-8760h", ""},
		{"a year behind, set right before the edit", "-8760h", "", ""},
		{"a year ahead, set right after the edit", "+8760h", "+8760h", ""},
		{"right, an hour on (time zone) after the edit", "", "", "+1h"},
		{"right, an hour back (time zone) before the edit", "", "-1h", "-1h"},
	} {
		for _, xLater := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, X edits later %v", c.name, xLater), func(t *testing.T) {
				t.Parallel() // each waits out the clock bound
				ts := servertest.Start(t)
				root := t.TempDir()
				shift := func(l *laptop, s string) {
					l.env = nil
					if s != "" {
						l.env = []string{"HAMLET_CLOCK_SHIFT=" + s, "HAMLET_TEST=1"}
					}
				}
				o := newLaptop(t, filepath.Join(root, "o"))
				o.enroll(ts)
				h := o.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
				o.must("sync")
				x := newLaptop(t, filepath.Join(root, "x"))
				shift(x, c.atSync)
				x.enroll(ts)
				x.must("sync")
				time.Sleep(1500 * time.Millisecond) // the edits come after the sync
				shift(x, c.atEdit)
				first, second, want, lose := x, o, "ấp Hai, máy khác (sau)", "ấp Hai, máy X (trước)"
				if xLater {
					first, second, want, lose = o, x, "ấp Hai, máy X (sau)", "ấp Hai, máy khác (trước)"
				}
				first.must("household", "edit", h, "--set", "address="+lose)
				time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
				second.must("household", "edit", h, "--set", "address="+want)
				time.Sleep(1500 * time.Millisecond)
				shift(x, c.atNext)
				for _, l := range []*laptop{x, o, x, o} {
					l.must("sync")
				}
				for who, l := range map[string]*laptop{"X": x, "other": o} {
					require.Equal(t, want, l.household(h)["address"], "laptop %s: the later edit wins", who)
				}
				listed := false
				for _, cf := range first.conflicts() {
					listed = listed || cf.Row == h && cf.Loser.Value == lose && cf.Winner.Value == want
				}
				require.True(t, listed, "the laptop whose edit lost lists it: %+v", first.conflicts())
			})
		}
	}
}

package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestManyWritesAcrossAClockJumpKeepTheirOrder (helper 225, review of
// 7c80d13): laptop X edits a household's address and phone several times,
// its clock set a year back (or an hour on) by hand half-way between two
// syncs; another laptop edits the address once between X's edits (more
// than ε apart), and the phone once after all of them. Restamp stamps
// each of X's writes by the offset it was made under: every laptop ends
// with X's last address (made after the other's), the other's phone, and
// the edits of one field in the order they were made.
func TestManyWritesAcrossAClockJumpKeepTheirOrder(t *testing.T) {
	t.Parallel()
	for _, jump := range []string{"-8760h", "+1h"} {
		t.Run(jump, func(t *testing.T) {
			t.Parallel()
			ts := servertest.Start(t)
			root := t.TempDir()
			o := newLaptop(t, filepath.Join(root, "o"))
			o.enroll(ts)
			h := o.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
			o.must("sync")
			x := newLaptop(t, filepath.Join(root, "x"))
			x.enroll(ts)
			x.must("sync")
			time.Sleep(1500 * time.Millisecond)
			const n = 6
			for i := range 2 * n {
				if i == n {
					x.env = []string{"HAMLET_CLOCK_SHIFT=" + jump, "HAMLET_TEST=1"}
					time.Sleep(3 * time.Second)
					o.must("household", "edit", h, "--set", "address=ấp Hai, máy khác (giữa)")
					time.Sleep(3 * time.Second)
				}
				x.must("household", "edit", h, "--set", fmt.Sprintf("address=ấp Hai, máy X lần %d", i), "--set", fmt.Sprintf("phone=09000000%02d", i))
			}
			time.Sleep(3 * time.Second)
			o.must("household", "edit", h, "--set", "phone=0912345678")
			time.Sleep(1500 * time.Millisecond)
			for _, l := range []*laptop{x, o, x, o} {
				r := l.must("sync")
				t.Logf("sync of %s:\n%s%s", filepath.Base(l.dir), r.stdout, r.stderr)
			}
			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			for who, l := range map[string]*laptop{"X": x, "other": o, "fresh": fresh} {
				hh := l.household(h)
				require.Equal(t, fmt.Sprintf("ấp Hai, máy X lần %d", 2*n-1), hh["address"], "laptop %s: X's last address, made after the other's", who)
				require.Equal(t, "0912345678", hh["phone"], "laptop %s: the other's phone, made after all of X's", who)
			}
		})
	}
}

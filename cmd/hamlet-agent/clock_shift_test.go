package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 16, black box: two real hamlet-agent processes whose clocks are
// shifted (HAMLET_CLOCK_SHIFT, a test's setting) against a real server on
// loopback. Both edit one household's phone offline, the second more than
// ε later in real time; after they sync (the later one first in some
// cases) the later edit is the phone on every laptop. In the first cases
// the earlier laptop records the household and edits it before it ever
// synced: its stamps carry its wrong clock until its first sync corrects
// them (before this release a stamp up to 5 minutes ahead was kept). A
// laptop a year ahead cannot be one of them: it records the household
// registered a year from now, which the server refuses (in_future).
func TestLaterRealTimeEditWinsAcrossShiftedClocks(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	cases := []struct {
		name        string
		early, late string // HAMLET_CLOCK_SHIFT of each laptop, "" for none
		neverSynced bool   // the earlier laptop records and edits before its first sync
		laterFirst  bool   // the later laptop syncs first after the edits
	}{
		{"a few minutes ahead and never synced, then right", "+4m", "", true, false},
		{"a year behind and never synced, then a few minutes ahead", "-8760h", "+4m", true, true},
		{"a year ahead, then right; the later syncs first", "+8760h", "", false, true},
		{"right, then a year ahead", "", "+8760h", false, false},
		{"a few minutes ahead, then a few minutes behind", "+4m", "-4m", false, true},
		{"a year behind, then a year ahead", "-8760h", "+8760h", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the waits between the edits overlap
			shifted := func(shift, label string) *laptop {
				l := newLaptop(t, t.TempDir())
				l.lang = "en"
				if shift != "" {
					l.env = []string{"HAMLET_CLOCK_SHIFT=" + shift, "HAMLET_TEST=1"}
				}
				r := l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--label", label)
				if shift != "" {
					require.Contains(t, r.stderr, "HAMLET_CLOCK_SHIFT", "every command says its clock is shifted")
				}
				return l
			}
			early, late := shifted(tc.early, "Laptop E"), shifted(tc.late, "Laptop L")
			late.must("sync")
			var id string
			var edited time.Time
			if tc.neverSynced {
				id = early.mustAdd(ts.HamletsA[0], "Trần Văn Mười")
				early.must("household", "edit", id, "--phone", "0911111111")
				edited = time.Now()
				early.must("sync") // its first
				late.must("sync")
			} else {
				early.must("sync")
				id = early.mustAdd(ts.HamletsA[0], "Trần Văn Mười")
				early.must("sync")
				late.must("sync")
				early.must("household", "edit", id, "--phone", "0911111111")
				edited = time.Now()
			}
			time.Sleep(time.Until(edited.Add(syncproto.ClockBound + 500*time.Millisecond)))
			late.must("household", "edit", id, "--phone", "0922222222")

			order := []*laptop{early, late, early}
			if tc.laterFirst {
				order = []*laptop{late, early, late}
			}
			for _, l := range order {
				l.must("sync")
			}
			for who, l := range map[string]*laptop{"earlier": early, "later": late} {
				require.Equal(t, "0922222222", l.household(id)["phone"], "laptop %s: the later real-time edit wins", who)
			}
		})
	}
}

// The shift is a test's setting: without HAMLET_TEST=1 every command
// refuses to run, and says why, rather than stamp a volunteer's writes
// with a time nobody chose or ignore what a test asked for.
func TestClockShiftOnlyInTests(t *testing.T) {
	t.Parallel()
	l := newLaptop(t, t.TempDir())
	l.env = []string{"HAMLET_CLOCK_SHIFT=+8760h"}
	r := l.run("status")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "HAMLET_CLOCK_SHIFT")
	require.Contains(t, r.stderr, "HAMLET_TEST=1")
	require.True(t, strings.HasPrefix(r.stderr, "Lỗi:"), "Vietnamese by default: %s", r.stderr)

	l.env = []string{"HAMLET_CLOCK_SHIFT=a year", "HAMLET_TEST=1"}
	r = l.run("status")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "+8760h")
}

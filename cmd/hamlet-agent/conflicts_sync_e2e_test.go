package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// enrolledLaptop is a laptop, in English, enrolled for a new member of
// team.
func enrolledLaptop(t *testing.T, ts *servertest.TS, team, label string) *laptop {
	return enrolledAt(t, ts, ts.URL, team, label)
}

// enrolledAt is enrolledLaptop reaching ts's server at url (a proxy).
func enrolledAt(t *testing.T, ts *servertest.TS, url, team, label string) *laptop {
	l := newLaptop(t, t.TempDir())
	l.lang = "en"
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, team), "--label", label)
	return l
}

// Issue 14 defect 8, with two real hamlet-agent processes against a real
// server: a delete that beats an edit it never saw is listed in
// 'conflicts' on both laptops (whichever reached the server first) and can
// be restored; a conflict restored on one laptop leaves the other's list.
func TestConflictsAreSyncedFacts(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	a := enrolledLaptop(t, ts, ts.TeamA, "Laptop A")
	// B's link measures its clock 200 ms behind A's (lagProxy), as two
	// laptops' measurements may differ on a loaded machine or a slow link.
	b := enrolledAt(t, ts, lagProxy(t, ts.URL, 400*time.Millisecond), ts.TeamA, "Laptop B")
	h := ts.HamletsA[0]
	add := func(head string) string {
		var rec struct{ ID string }
		require.NoError(t, json.Unmarshal([]byte(a.must("household", "add", "--hamlet", h, "--head", head, "--json").stdout), &rec))
		return rec.ID
	}
	first, second := add("Nguyễn Văn An"), add("Trần Thị Bình")
	a.must("sync")
	b.must("sync")

	// 1. The edit reaches the server first: A edits, B deletes (later, not
	// having seen the edit), A syncs, then B.
	a.must("household", "edit", first, "--phone", "0987654321")
	b.clockPast(a.stampOf(first, "phone"))
	b.must("household", "delete", first)
	// 2. The delete reaches the server first: B deletes, syncs; A, which
	// has not synced since, edits.
	b.must("household", "delete", second)
	a.must("household", "edit", second, "--address", "Số 5, khóm 1")
	a.must("sync")
	b.must("sync") // pushes both deletes, pulls both edits its deletes never saw, and says so
	a.must("sync")

	for name, l := range map[string]*laptop{"A": a, "B": b} {
		cs := l.conflicts()
		require.Len(t, cs, 2, "laptop %s: %+v", name, cs)
		rows := map[string]bool{}
		for _, c := range cs {
			require.Equal(t, "_deleted", c.Field, "laptop %s", name)
			require.Equal(t, false, c.Loser.Value, "laptop %s: the row as edited lost...", name)
			require.Equal(t, true, c.Winner.Value, "laptop %s: ...to the delete", name)
			rows[c.Row] = true
		}
		require.Equal(t, map[string]bool{first: true, second: true}, rows, "laptop %s", name)
		out := l.must("conflicts").stdout
		require.Contains(t, out, "delete/edit", "laptop %s", name)
		require.Contains(t, out, "conflicts restore ID", "laptop %s", name)
	}
	require.True(t, b.household(first)["deleted"].(bool))

	// A restores the first: the household comes back, with A's edit,
	// everywhere, and the conflict leaves B's list too.
	var restore int64
	for _, c := range a.conflicts() {
		if c.Row == first {
			restore = c.ID
		}
	}
	require.Contains(t, a.must("conflicts", "restore", strconv.FormatInt(restore, 10)).stdout, "Restored the deleted record")
	a.must("sync")
	b.must("sync")
	for name, l := range map[string]*laptop{"A": a, "B": b} {
		cs := l.conflicts()
		require.Len(t, cs, 1, "laptop %s: %+v", name, cs)
		require.Equal(t, second, cs[0].Row, "laptop %s", name)
		hh := l.household(first)
		require.False(t, hh["deleted"].(bool), "laptop %s", name)
		require.Equal(t, "0987654321", hh["phone"], "laptop %s", name)
	}

	// 3. An ordinary conflict: both edit the notes; the earlier loses.
	third := add("Lê Văn Cường")
	a.must("sync")
	b.must("sync")
	a.must("household", "edit", third, "--notes", "ghi chú của A")
	b.clockPast(a.stampOf(third, "notes"))
	b.must("household", "edit", third, "--notes", "ghi chú của B")
	a.must("sync")
	b.must("sync")
	a.must("sync")
	var notes map[string]int64
	for name, l := range map[string]*laptop{"A": a, "B": b} {
		found := false
		for _, c := range l.conflicts() {
			if c.Row == third {
				require.Equal(t, "notes", c.Field)
				require.Equal(t, "ghi chú của A", c.Loser.Value)
				if notes == nil {
					notes = map[string]int64{}
				}
				notes[name] = c.ID
				found = true
			}
		}
		require.True(t, found, "laptop %s lists the notes conflict", name)
	}
	// B restores A's notes: A's list drops it at A's next sync.
	b.must("conflicts", "restore", strconv.FormatInt(notes["B"], 10))
	b.must("sync")
	a.must("sync")
	for name, l := range map[string]*laptop{"A": a, "B": b} {
		for _, c := range l.conflicts() {
			require.NotEqual(t, third, c.Row, "laptop %s still lists the restored conflict", name)
		}
		require.Equal(t, "ghi chú của A", l.household(third)["notes"], "laptop %s", name)
	}
}

// stampOf is the stamp (HLC) of this laptop's own latest version of
// household id's field.
func (l *laptop) stampOf(id, field string) syncproto.HLC {
	l.t.Helper()
	return stampIn(l.t, l.must("household", "show", id, "--json").stdout, field)
}

// stampIn is the stamp of the latest version of field marked as the
// laptop's own in show, the output of 'household show --json'.
func stampIn(t testing.TB, show, field string) syncproto.HLC {
	t.Helper()
	var d struct {
		History []struct {
			Field    string
			Versions []struct {
				HLC  uint64 `json:"hlc,string"`
				Mine bool
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(show), &d), show)
	var last uint64
	for _, h := range d.History {
		for _, v := range h.Versions {
			if h.Field == field && v.Mine {
				last = max(last, v.HLC)
			}
		}
	}
	require.NotZero(t, last, "no version of %s of this laptop's in %s", field, show)
	return syncproto.HLC(last)
}

// clockPast waits until this laptop's clock (the wall clock corrected by
// the offset its last sync measured) reads past at by stampMargin, so that
// what it writes next is later than at by the rule, as a volunteer's edit
// a while after a teammate's is. A few milliseconds' sleep was not enough:
// the two laptops' measured offsets differ by up to half a round trip
// each, and a loaded machine's round trips are long (a full run once
// listed B's later note lost to A's; a link slower down than up does it
// every time: lagProxy).
func (l *laptop) clockPast(at syncproto.HLC) {
	l.t.Helper()
	waitPast(l.t, l.status(), at)
}

// waitPast is clockPast for a laptop whose 'status --json' is status.
func waitPast(t testing.TB, status map[string]any, at syncproto.HLC) {
	t.Helper()
	off, err := strconv.ParseInt(status["clock_offset_ns"].(string), 10, 64)
	require.NoError(t, err)
	time.Sleep(time.Until(at.Time().Add(stampMargin - time.Duration(off))))
}

// stampMargin is how far past another write clockPast waits: past the
// error of the next measurement, by which the next sync restamps the
// writes it has not sent (syncproto.Restamp).
const stampMargin = time.Second

package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop 3 days ahead syncs (it learns a -72h offset); its owner then
// sets the date right by hand and records a visit before the next sync. The
// visit was dated 3 days ago (the stale offset still added), the server
// took it, and nobody was told (helper 129). A clock reading earlier than
// at the sync that measured it cannot be real time passing: the visit is
// dated by the clock as it reads now, and the volunteer is told; the next
// sync measures the clock again and the note goes.
func TestClockSetBackByHandDatesByTheClock(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l, id := clockSetRightAfterSync(t, ts, "+72h")
	add := l.must("visit", "add", "--household", id, "--notes", "hôm nay")
	require.Contains(t, add.stderr, "sớm hơn lúc đồng bộ lần trước", "the volunteer is told why the date follows the clock")
	today := time.Now().In(vnZone)
	require.Contains(t, add.stderr, today.Format("02/01/2006"))
	require.Contains(t, l.must("status").stdout, "sớm hơn lúc đồng bộ lần trước")
	var st struct {
		SetBack bool `json:"clock_set_back"`
	}
	require.NoError(t, json.Unmarshal([]byte(l.must("status", "--json").stdout), &st))
	require.True(t, st.SetBack)

	var vs []struct{ Fields map[string]any }
	lr := l.must("visit", "list", "--json")
	require.NoError(t, json.Unmarshal([]byte(lr.stdout), &vs), lr.stdout)
	require.Len(t, vs, 1)
	require.Equal(t, today.Format(time.DateOnly), vs[0].Fields["visited_on"], "a visit made today is dated today")

	require.Contains(t, l.must("sync").stdout, "bị từ chối 0")
	require.NotContains(t, l.must("status").stdout, "sớm hơn lúc đồng bộ lần trước", "the sync measured the clock again")
	add = l.must("visit", "add", "--household", id, "--notes", "lần hai")
	require.Empty(t, add.stderr)
}

// Seen by one command, the set-back is kept in the replica: a later
// command, days later offline when the clock (set right) has passed the
// moment the sync measured it, still dates by the clock, not by the stale
// offset (helper 133's review).
func TestClockSetBackIsKeptAcrossCommands(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l, id := clockSetRightAfterSync(t, ts, "+72h")
	require.Contains(t, l.must("status").stdout, "sớm hơn lúc đồng bộ lần trước")
	l.env = []string{"HAMLET_CLOCK_SHIFT=+73h", "HAMLET_TEST=1"} // three days on, offline
	l.must("visit", "add", "--household", id, "--notes", "ba ngày sau")
	var vs []struct{ Fields map[string]any }
	lr := l.must("visit", "list", "--json")
	require.NoError(t, json.Unmarshal([]byte(lr.stdout), &vs), lr.stdout)
	require.Len(t, vs, 1)
	require.Equal(t, time.Now().Add(73*time.Hour).In(vnZone).Format(time.DateOnly), vs[0].Fields["visited_on"])
}

// clockSetRightAfterSync is a laptop whose clock was off by shift (a
// HAMLET_CLOCK_SHIFT) when it enrolled and synced twice, with a household
// it added between, and whose clock was then set right by hand.
func clockSetRightAfterSync(t *testing.T, ts *servertest.TS, shift string) (*laptop, string) {
	t.Helper()
	l := newLaptop(t, t.TempDir())
	l.env = []string{"HAMLET_CLOCK_SHIFT=" + shift, "HAMLET_TEST=1"}
	l.enroll(ts)
	l.must("sync")
	id := l.mustAdd(ts.HamletsA[0], "Phạm Văn Dũng")
	l.must("sync")
	l.env = nil // the date set right by hand
	return l, id
}

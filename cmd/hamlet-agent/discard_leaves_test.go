package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 39d (helper 77): a household the server holds in a hamlet the
// team covers, refused a date (the laptop's clock five days ahead) and a
// move into a hamlet the team had lost; the team then loses the first
// hamlet too. The volunteer drops the move (the household goes back to
// the first hamlet, kept beside its refused date), then the date: the
// household has nothing left to keep it on the laptop and leaves it. The
// command said only "Đã xong.": it says the household left, and that the
// server keeps it.
func TestRejectedDiscardSaysTheHouseholdLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, id := householdThenALoss(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	l.env = []string{"HAMLET_CLOCK_SHIFT=120h", "HAMLET_TEST=1"}
	l.must("household", "edit", "--registered-on", time.Now().AddDate(0, 0, 3).Format("2006-01-02"), id)
	l.must("household", "edit", "--hamlet", lost, id)
	l.must("sync")
	l.must("sync")
	_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, kept)
	require.NoError(t, err)
	l.must("sync")

	rows := l.rejected()
	ids := map[string]int64{}
	for _, x := range rows {
		require.Equal(t, id, x.Row)
		ids[x.Field] = x.ID
	}
	require.NotZero(t, ids["hamlet_code"], "%+v", rows)
	require.NotZero(t, ids["registered_on"], "%+v", rows)
	r := l.must("rejected", "discard", strconv.FormatInt(ids["hamlet_code"], 10))
	require.True(t, l.households()[id], "the household stays beside its refused date")
	require.NotContains(t, r.stdout, "rời khỏi máy này")

	r = l.must("rejected", "discard", strconv.FormatInt(ids["registered_on"], 10))
	require.False(t, l.households()[id], "the household leaves the laptop: its hamlet is not the team's")
	require.Contains(t, r.stdout, "Bản ghi "+short(id)+" thuộc ấp/khóm mà tổ bạn không còn phụ trách (theo lần đồng bộ gần nhất) nên đã rời khỏi máy này; máy chủ vẫn giữ nó")
}

// «rejected fix» of a household's refused move into a hamlet the team
// lost is refused at once, in words that say the list of hamlets is the
// last sync's and what to do; the refusal stays listed. Before 4357830 the
// move went again and the server refused it again (seed 5803541: or took
// it, when the team got the hamlet back and lost it again meanwhile).
func TestRejectedFixIntoALostHamletSaysSo(t *testing.T) {
	t.Parallel()
	ts, l, id := householdThenALoss(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	l.must("household", "edit", "--hamlet", lost, id)
	l.must("sync")

	rows := l.rejected()
	require.Len(t, rows, 1, "%+v", rows)
	require.Equal(t, "hamlet_code", rows[0].Field)
	r := l.run("rejected", "fix", strconv.FormatInt(rows[0].ID, 10))
	require.NotEqual(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	// Both by the names the laptop knows (the lost one from before).
	require.Contains(t, r.stderr, "Ấp/khóm "+enrolledHamletName(t, l, lost)+" ("+lost+") không thuộc địa bàn tổ bạn phụ trách ("+
		enrolledHamletName(t, l, kept)+" ("+kept+"), theo lần đồng bộ gần nhất)")
	require.Contains(t, r.stderr, "nếu tổ vừa được giao lại ấp/khóm này, hãy đồng bộ rồi làm lại")
	require.Len(t, l.rejected(), 1, "the refusal stays listed")
}

// householdThenALoss: a laptop (the binary) adds a household in team A's
// first hamlet and syncs it; the team then loses its second hamlet.
func householdThenALoss(t *testing.T) (*servertest.TS, *laptop, string) {
	t.Helper()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.env = []string{"HAMLET_TEST=1"}
	l.enroll(ts)
	id := l.mustAdd(ts.HamletsA[0], "Lâm Thị Sáu")
	l.must("sync")
	l.must("sync")
	_, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, ts.HamletsA[1])
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	return ts, l, id
}

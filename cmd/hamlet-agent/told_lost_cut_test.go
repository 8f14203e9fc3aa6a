package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestLostHamletToldAfterACutSync: the team no longer covers a hamlet; the
// laptop's next sync drops that hamlet's records, then is cut at the pull
// after (a link that drops), in every attempt. The sync prints its error,
// and the next one, which ends well, must say that the hamlet and its
// records left the laptop, by the hamlet's name as the volunteer knows it
// ("Ấp Tân Lợi (32002-09)": the code alone tells her nothing; the
// enrollment's list no longer names it when the sync tells it): nothing
// else ever will.
func TestLostHamletToldAfterACutSync(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, lost string }{
		{"", "Tổ không còn phụ trách ấp/khóm "},
		{"en", "Your team no longer covers hamlet(s) "},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			cuts := new(atomic.Int32)
			url := pullCutProxy(t, ts.URL[len("http://"):], cuts)
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
			lost := ts.HamletsA[1]
			l.mustAdd(lost, "Lâm Thị Sáu")
			l.mustAdd(lost, "Trần Văn Bảy")
			l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
			l.must("sync")
			name := enrolledHamletName(t, l, lost)

			changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, lost)
			require.NoError(t, err)
			require.True(t, changed)
			seedCommune(t, ts, 1) // a teammate's household: the sync pulls after the drop
			cuts.Store(3)
			r := l.run("sync")
			t.Logf("sync cut after the drop: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code, "the sync was cut")
			require.Len(t, l.households(), 1, "the lost hamlet's two households left the laptop")
			told := r.stdout + r.stderr
			cuts.Store(0)

			r = l.must("sync")
			t.Logf("next sync:\n%s%s", r.stdout, r.stderr)
			told += r.stdout
			require.Equal(t, 1, strings.Count(told, c.lost+name+" ("+lost+")"), "the hamlet lost, and its records removed, told once, by name:\n%s", told)
			require.NotContains(t, l.must("sync").stdout, c.lost, "told once")
		})
	}
}

// TestLostHamletGainedAgainBeforeToldNotToldLost: the team loses two
// hamlets, and the sync that drops them is cut; before a sync ends well it
// gets one of them back. That sync tells the hamlet it gained (again), and
// the one still lost without a count (the rows dropped were of both): not
// "no longer covers" a hamlet it covers.
func TestLostHamletGainedAgainBeforeToldNotToldLost(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	back := ts.OtherHamletA
	otherTeamHolds(t, ts, []string{back}, 3)
	_, err := ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, back)
	require.NoError(t, err)
	cuts := new(atomic.Int32)
	url := pullCutProxy(t, ts.URL[len("http://"):], cuts)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	lost := ts.HamletsA[1]
	l.mustAdd(lost, "Lâm Thị Sáu")
	l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
	l.must("sync")
	require.Len(t, l.households(), 5)

	for _, h := range []string{lost, back} {
		changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, h)
		require.NoError(t, err)
		require.True(t, changed)
	}
	seedCommune(t, ts, 1)
	cuts.Store(3)
	r := l.run("sync")
	require.NotEqual(t, 0, r.code, "the sync was cut")
	require.Len(t, l.households(), 1, "both hamlets' households left the laptop")
	cuts.Store(0)
	_, err = ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, back)
	require.NoError(t, err)

	out := l.must("sync").stdout
	t.Logf("sync after the hamlet came back:\n%s", out)
	require.Len(t, l.households(), 1+1+3, "the hamlet gained again is back-filled")
	require.Contains(t, out, "Tổ được giao thêm ấp/khóm "+enrolledHamletName(t, l, back)+" ("+back+")", "a hamlet gained back, by the name it had")
	require.Contains(t, out, "Tổ không còn phụ trách ấp/khóm "+enrolledHamletName(t, l, lost)+" ("+lost+"): bản ghi của ấp/khóm này đã được xóa khỏi máy")
	require.NotContains(t, out, "("+lost+"), ", "the hamlet covered again is not told lost")
	require.NotContains(t, l.must("sync").stdout, "Tổ không còn phụ trách", "told once")
}

// enrolledHamletName is the name l's enrollment knows for a hamlet of its
// scope, or one its team covered before.
func enrolledHamletName(t *testing.T, l *laptop, code string) string {
	t.Helper()
	var en agent.Enrollment
	require.NoError(t, json.Unmarshal([]byte(replicaMeta(t, l.dir, "enrollment")), &en))
	name := en.HamletName(code)
	require.NotEmpty(t, name, "the enrollment names hamlet %s", code)
	return name
}

package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// untoldWorld is a server whose team A will gain two hamlets of its
// commune, h3 (30 households: 300 field versions) and h4 (20: 200), which
// team C works in; and a laptop of team A, synced, behind a link that
// cuts at the agent's Pull (pullCutProxy) as cuts says.
func untoldWorld(t *testing.T) (ts *servertest.TS, l *laptop, cuts *atomic.Int32, h3, h4 string) {
	t.Helper()
	ts = servertest.Start(t)
	h3, h4 = ts.OtherHamletA, schema.HamletCode(servertest.CommuneA, 4)
	otherTeamHolds(t, ts, []string{h3, h4}, 30, 20)
	cuts = new(atomic.Int32)
	url := pullCutProxy(t, ts.URL[len("http://"):], cuts)
	l = newLaptop(t, t.TempDir())
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	return ts, l, cuts, h3, h4
}

// gainCut: the team gains hamlets, and the laptop's next sync back-fills
// them and is cut at the pull after (a teammate's household since: there
// is one), in every attempt.
func gainCut(t *testing.T, ts *servertest.TS, l *laptop, cuts *atomic.Int32, hamlets ...string) {
	t.Helper()
	for _, h := range hamlets {
		changed, err := ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, h)
		require.NoError(t, err)
		require.True(t, changed)
	}
	seedCommune(t, ts, 1)
	cuts.Store(3)
	r := l.run("sync")
	t.Logf("sync cut after the back-fill of %v: exit %d\n%s%s", hamlets, r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code, "the sync was cut")
	cuts.Store(0)
}

const gainedLine = "Tổ được giao thêm ấp/khóm"

// TestTwoBackfillsEndedInCutSyncsBothTold: the team gains a hamlet, whose
// back-fill ends in a sync cut afterwards (backfill_untold keeps it for the
// next sync that ends well); before one does, it gains another, whose
// back-fill ends in a sync cut too. The second overwrote the first: the
// next sync told the second hamlet only, and the first was never told.
func TestTwoBackfillsEndedInCutSyncsBothTold(t *testing.T) {
	t.Parallel()
	ts, l, cuts, h3, h4 := untoldWorld(t)
	gainCut(t, ts, l, cuts, h3)
	require.Len(t, l.households(), 30, "the back-fill was stored, the pull after it cut")
	gainCut(t, ts, l, cuts, h4)
	require.Len(t, l.households(), 30+20, "both back-fills were stored")
	out := l.must("sync").stdout
	t.Logf("sync after the cuts:\n%s", out)
	require.Contains(t, out, gainedLine+" "+h3+", "+h4+": đã tải 500 thay đổi", "both hamlets gained are told, with all they brought")
	require.NotContains(t, l.must("sync").stdout, gainedLine, "told once")
}

// TestBackfillLostBeforeToldNotToldGained: a hamlet's back-fill ends in a
// sync cut afterwards; the team loses that hamlet before a sync ends well.
// That sync said in one breath that the team gained the hamlet (and
// fetched its 300 changes) and that it no longer covers it (its records
// removed): the hamlet is not the team's; only its loss is true now.
func TestBackfillLostBeforeToldNotToldGained(t *testing.T) {
	t.Parallel()
	ts, l, cuts, h3, _ := untoldWorld(t)
	gainCut(t, ts, l, cuts, h3)
	changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, h3)
	require.NoError(t, err)
	require.True(t, changed)
	out := l.must("sync").stdout
	t.Logf("sync after the loss:\n%s", out)
	require.Contains(t, out, "Tổ không còn phụ trách ấp/khóm "+h3)
	require.NotContains(t, out, gainedLine, "a hamlet lost is not told as gained")
	require.NotContains(t, l.must("sync").stdout, gainedLine, "nor later")
}

// TestBackfillPartLostBeforeToldTellsTheRest: one back-fill brings two
// hamlets gained together and ends in a sync cut afterwards; the team
// loses one of them before a sync ends well. That sync tells the hamlet
// still gained, not the one lost, and no count that holds the lost one's
// changes (the 500 were of both).
func TestBackfillPartLostBeforeToldTellsTheRest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, gained, lost string }{
		{"", gainedLine, "Tổ không còn phụ trách ấp/khóm "},
		{"en", "Your team gained hamlet(s)", "Your team no longer covers hamlet(s) "},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts, l, cuts, h3, h4 := untoldWorld(t)
			gainCut(t, ts, l, cuts, h3, h4)
			changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, h3)
			require.NoError(t, err)
			require.True(t, changed)
			l.lang = c.lang
			out := l.must("sync").stdout
			t.Logf("sync after the loss:\n%s", out)
			require.Contains(t, out, c.lost+h3)
			i := strings.Index(out, c.gained)
			require.GreaterOrEqual(t, i, 0, "the hamlet still gained is told:\n%s", out)
			line, _, _ := strings.Cut(out[i:], "\n")
			require.Contains(t, line, h4)
			require.NotContains(t, line, h3, "the hamlet lost is not told as gained")
			require.NotContains(t, line, "500", "nor the lost hamlet's changes as the other's")
			require.NotContains(t, l.must("sync").stdout, c.gained, "told once")
		})
	}
}

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSlowLinkCutEveryConnectionBackfillFinishes: the team gains a hamlet
// of 2,000 households while its laptop works over a 3G link that drops
// every connection after some 20 KB down, less than one snapshot chunk of
// the server's default size. The back-fill of the gained hamlet, asking
// for default chunks, spent every connection on a chunk it never finished
// and never brought the hamlet; asking for smaller chunks after a cut, as
// a clone does, it gets there in a few syncs.
func TestSlowLinkCutEveryConnectionBackfillFinishes(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	_, link, l, _ := hamletGainedOverACuttingLink(t)

	require.True(t, syncUntilDone(t, l, link, 8), "the back-fill finished within 8 syncs")
	require.Len(t, l.households(), 2000, "every household of the gained hamlet is on the laptop")
}

// hamletGainedOverACuttingLink is the back-fill tests' world: a laptop of
// team A, synced, whose team then gains a hamlet of 2,000 households
// (20,000 field versions) held by another team, over a link that from
// then on drops every connection after 20 KB down. It returns the
// server, the link, the laptop and the hamlet gained.
func hamletGainedOverACuttingLink(t *testing.T) (*servertest.TS, *linktest.Link, *laptop, string) {
	t.Helper()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	gained := ts.OtherHamletA
	otherTeamHolds(t, ts, []string{gained}, 2000)

	link := linktest.New(t, ts.URL[len("http://"):], 4<<20, 0)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	require.Empty(t, l.households())

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }
	return ts, link, l, gained
}

// syncUntilDone runs the laptop's sync over the link until one ends well,
// at most syncs times, logging each; false when none did.
func syncUntilDone(t *testing.T, l *laptop, link *linktest.Link, syncs int) bool {
	t.Helper()
	for i := 1; i <= syncs; i++ {
		r := l.run("sync")
		t.Logf("sync %d: exit %d, %d B down, %d connections so far\n%s%s", i, r.code, link.Down(), link.Conns(), r.stdout, r.stderr)
		if r.code == 0 {
			return true
		}
	}
	return false
}

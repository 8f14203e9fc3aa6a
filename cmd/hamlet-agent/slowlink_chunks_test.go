package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSlowLinkCutEveryConnectionCloneFinishes: a 3G link that drops every
// connection after some 20 KB down, less than one snapshot chunk of the
// server's default size (about 75 KB). A clone that kept asking for
// default chunks spent every connection on a chunk it never finished and
// stored nothing, sync after sync; asking for smaller chunks after a cut,
// it gets there in a few syncs.
func TestSlowLinkCutEveryConnectionCloneFinishes(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 2000)
	link := linktest.New(t, ts.URL[len("http://"):], 4<<20, 0)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }

	require.True(t, syncUntilDone(t, l, link, 8), "the clone finished within 8 syncs")
	require.Len(t, l.households(), 2000, "every household of the team is on the laptop")
}

// TestSlowLinkCutEveryConnectionCatchUpFinishes: a laptop back from a week
// away pulls its teammates' 8,000 changes from the log over a link that
// drops every connection after some 20 KB down. A pull that kept asking
// for the server's default page (10,000 changes, some 70 KB) spent every
// connection on a page it never finished, and the laptop never caught up.
func TestSlowLinkCutEveryConnectionCatchUpFinishes(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	link, l := behindOnACuttingLink(t, 800, 20000)
	require.True(t, syncUntilDone(t, l, link, 10), "the laptop caught up within 10 syncs")
	require.Len(t, l.households(), 2800, "every household of the team is on the laptop")
}

// behindOnACuttingLink is the catch-up tests' world: a laptop of team A
// that synced the team's 2,000 households, then fell behind by another
// team's device adding more households (ten fields each), with a link that
// from then on drops every connection after cutAt bytes down.
func behindOnACuttingLink(t *testing.T, more int, cutAt int64) (*linktest.Link, *laptop) {
	t.Helper()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	link := linktest.New(t, ts.URL[len("http://"):], 4<<20, 0)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	seedCommune(t, ts, 2000)
	l.must("sync")
	seedCommune(t, ts, more)
	link.Cuts = func(int64) (int64, int64) { return 0, cutAt }
	return link, l
}

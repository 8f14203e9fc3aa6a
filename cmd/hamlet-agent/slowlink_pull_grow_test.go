package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSlowLinkCutAfterGrownPageKeepsWhatCarried: a laptop catches up
// 20,000 changes over a link that drops every connection after some 45 KB
// down: room for four pages of 1,000 changes, not for a default page.
// After four whole pages the pull asks for a default page again (the
// limit grows back); that page is cut. The connection stored four pages,
// so it is no cut "before a page was stored", but the next connection must
// not start from the grown limit, which the link never carried: it spent
// every other connection on a default page it never finished.
func TestSlowLinkCutAfterGrownPageKeepsWhatCarried(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	link, l := behindOnACuttingLink(t, 2000, 45000)
	base := link.Conns()

	had := 0
	for i := 1; i <= 8; i++ {
		before := link.Conns()
		r := l.run("sync")
		n := len(l.households())
		t.Logf("sync %d: exit %d, %d connections, %d households (+%d)\n%s%s", i, r.code, link.Conns()-before, n, n-had, r.stdout, r.stderr)
		had = n
		if r.code == 0 {
			break
		}
	}
	require.Len(t, l.households(), 4000, "the laptop caught up")
	conns := link.Conns() - base
	// 20,000 changes at 4,000 a connection: 5 connections, and the first,
	// cut on a default page; 10 or more when every other one is spent on
	// a default page.
	require.LessOrEqual(t, conns, int64(7), "connections to catch up 20,000 changes, four pages of 1,000 each")
}

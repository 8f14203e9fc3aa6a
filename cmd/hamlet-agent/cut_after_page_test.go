package main

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestCutJustAfterAPageKeepsThePage: a laptop catches up 20,000 changes
// over a link that drops every connection just after the first page of
// the pull arrived whole (when the laptop asks for the next). The page
// is the laptop's: it must be stored, and the next connection go on from
// it. The storing loop took the cut, queued right behind the page, into
// the page's transaction and rolled the page back with it: no connection
// stored anything, the pull asked for ever smaller pages, each thrown
// away likewise, and the laptop never caught up.
func TestCutJustAfterAPageKeepsThePage(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	var pulls atomic.Int32
	addr := cutProxy(t, ts.URL[len("http://"):], func(m syncproto.Message) bool {
		_, pull := m.(*syncproto.Pull)
		return pull && pulls.Add(1)%2 == 0 // the second Pull of each connection
	})
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", addr, "--code", ts.EnrollCode(t, ts.TeamA))
	seedCommune(t, ts, 2000)
	l.must("sync")
	seedCommune(t, ts, 2000)
	pulls.Store(0)

	done := false
	for i := 1; i <= 4 && !done; i++ {
		r := l.run("sync")
		t.Logf("sync %d: exit %d, %d households\n%s%s", i, r.code, len(l.households()), r.stdout, r.stderr)
		done = r.code == 0
	}
	require.True(t, done, "the laptop caught up within 4 syncs, a page a connection")
	require.Len(t, l.households(), 4000)
}

// TestCutJustAfterAChunkKeepsTheChunk: as TestCutJustAfterAPageKeepsThePage,
// for a clone: the link drops every connection just after the first
// snapshot chunk arrived whole (when the laptop asks for the next).
func TestCutJustAfterAChunkKeepsTheChunk(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	var reqs atomic.Int32
	addr := cutProxy(t, ts.URL[len("http://"):], func(m syncproto.Message) bool {
		_, req := m.(*syncproto.SnapshotRequest)
		return req && reqs.Add(1)%2 == 0 // the second request of each connection
	})
	seedCommune(t, ts, 6000)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", addr, "--code", ts.EnrollCode(t, ts.TeamA))

	done := false
	for i := 1; i <= 4 && !done; i++ {
		r := l.run("sync")
		t.Logf("sync %d: exit %d, %d households\n%s%s", i, r.code, len(l.households()), r.stdout, r.stderr)
		done = r.code == 0
	}
	require.True(t, done, "the clone ended within 4 syncs, a chunk a connection")
	require.Len(t, l.households(), 6000)
}

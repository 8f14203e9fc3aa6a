package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestAppFetchesTheRosterOncePerSession: the app left open pulls each
// teammate's change as it comes. It fetched the team's roster again after
// every one: 20 teammates' households cost 20 roster fetches (about 2.4 KB
// each for a team of 17 laptops) on a metered link, in no summary's
// bytes. As `sync --watch` does, it fetches it once a session, and again
// when it is old (agent.RosterMaxAge) or names a hamlet it lacks.
func TestAppFetchesTheRosterOncePerSession(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	var rosters atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/roster" {
			rosters.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", proxy.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
	l.must("sync")
	a := startApp(t, l)
	require.Eventually(t, func() bool {
		_, page := a.get("/sync/status")
		return strings.Contains(page, `"class":"ok"`)
	}, 60*time.Second, 100*time.Millisecond, "the app's sync is online")
	time.Sleep(time.Second)
	before := rosters.Load()

	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	defer c.Close()
	w := servertest.NewWriter(dev.Replica, nil)
	const n = 20
	for i := 0; i < n; i++ {
		require.NoError(t, c.PushAll(servertest.HouseholdChanges(w, ts.HamletsA[0], 10), 2000, 4))
		want := 1 + i + 1
		require.Eventually(t, func() bool { return len(l.households()) >= want }, 60*time.Second, 50*time.Millisecond,
			"the open app pulls the teammate's household %d", i+1)
	}
	time.Sleep(time.Second)
	got := rosters.Load() - before
	t.Logf("%d teammate households pulled by the open app: %d roster fetches", n, got)
	require.LessOrEqual(t, got, int64(1), "the roster fetched once a session, not after every pull")
	a.stop()
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRosterFetchedWhenASyncBringsSomething, with the real binary against
// a real server (through a proxy that counts the roster's requests): a
// sync that brings nothing does not fetch the roster again, so a no-op
// sync is one round trip (issue 20); a sync that brings a teammate's first
// change fetches it, and the laptop can name them.
func TestRosterFetchedWhenASyncBringsSomething(t *testing.T) {
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
	enrolled := func(label string) *laptop {
		l := newLaptop(t, t.TempDir())
		l.lang = "en"
		l.must("enroll", "--server", proxy.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--label", label)
		return l
	}

	a := enrolled("Laptop A")
	a.must("sync")
	before := rosters.Load()
	a.must("sync")
	a.must("sync")
	require.Equal(t, before, rosters.Load(), "a sync that brought nothing fetched the roster")

	b := enrolled("Laptop B")
	b.mustAdd(ts.HamletsA[0], "Nguyễn Văn An")
	b.must("sync")
	before = rosters.Load()
	a.must("sync")
	require.Equal(t, before+1, rosters.Load(), "a sync that brought a teammate's change fetched the roster once")
	r, err := agent.Open(context.Background(), filepath.Join(a.dir, "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	ws, err := r.Writers(context.Background())
	require.NoError(t, err)
	rb, err := agent.Open(context.Background(), filepath.Join(b.dir, "replica.db"))
	require.NoError(t, err)
	defer rb.Close()
	require.Contains(t, ws, rb.ID().String(), "laptop A names laptop B's writer")
}

// Helper 156 (noticed): a hamlet the team gained after the enrollment
// reached the laptop by code alone (the Welcome's scope), so the app and
// the CLI showed it without its name for good. The roster now names the
// device's hamlets, and a sync fetches it while a hamlet has no name.
func TestGainedHamletIsNamed(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.lang = "en"
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--label", "Laptop A")
	l.must("sync")
	changed, err := ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	require.True(t, changed)
	l.must("sync") // an empty hamlet: the sync brings no row, only the scope
	r, err := agent.Open(context.Background(), filepath.Join(l.dir, "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	e, err := r.Enrollment(context.Background())
	require.NoError(t, err)
	var name string
	for _, h := range e.Scope {
		if h.Code == ts.OtherHamletA {
			name = h.Name
		}
	}
	require.NotEmpty(t, name, "the gained hamlet %s has no name in the scope %+v", ts.OtherHamletA, e.Scope)
}

package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestAppSecondSignalEndsAtOnce: the app ends on Ctrl+C or SIGTERM as it
// should, saving what it has; on a link that stalls, that takes long (its
// background sync and roster fetch wait out their time-outs: 27 s
// measured). A volunteer who presses Ctrl+C again, or a laptop shutting
// down that sends SIGTERM again, must not wait for it: the second signal
// ends the process at once. It was taken by the first's handler, and
// swallowed.
func TestAppSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	var stall atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall.Load() {
			<-r.Context().Done() // the link hangs
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", proxy.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
	stall.Store(true)
	a := startApp(t, l)
	time.Sleep(time.Second) // its background sync is waiting on the link

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(500 * time.Millisecond)
	select {
	case <-a.done:
		t.Log("the app ended at the first signal")
		return
	default:
	}
	second := time.Now()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-a.done:
		t.Logf("ended %v after the second signal", time.Since(second).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatalf("the app still runs 5 s after a second SIGTERM:\n%s", a.out.String())
	}
}

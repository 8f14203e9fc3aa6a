package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
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
//
// No step waits on a guess of time: the first signal goes once the link
// holds a request of the app (the proxy says so), the second once the app
// shows it took the first (its pages' listener is closed), and the verdict
// is how the process ended (killed by the signal, or exited by itself once
// its time-outs ran out), not how long it took. A loaded machine that
// slowed the app passed this test before without a second signal ever
// being sent (the app, not yet syncing, ended at the first); an attempt in
// which no second signal could tell (the app ended at the first, or by
// itself before one was sent) is made again, and a test that never could
// fails.
func TestAppSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()
	const attempts = 3
	var why []string
	for i := 0; i < attempts; i++ {
		ok, inconclusive := secondSignalAttempt(t)
		if ok {
			return
		}
		t.Logf("attempt %d told nothing: %s", i+1, inconclusive)
		why = append(why, inconclusive)
	}
	t.Fatalf("no attempt of %d sent the app a second signal it could end at: %q", attempts, why)
}

// secondSignalAttempt runs the app on a stalled link, signals it twice
// and fails t if the second signal was swallowed. It returns false, and
// why, when the attempt could not tell.
func secondSignalAttempt(t *testing.T) (bool, string) {
	t.Helper()
	ts := servertest.Start(t)
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	var stall atomic.Bool
	held := make(chan string, 64)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall.Load() {
			select {
			case held <- r.URL.Path:
			default:
			}
			<-r.Context().Done() // the link hangs
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", proxy.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
	stall.Store(true)
	a := startApp(t, l)
	defer a.kill()
	select {
	case p := <-held:
		t.Logf("the link holds the app's request to %s", p)
	case <-time.After(60 * time.Second):
		t.Fatalf("the app's background sync never reached the link:\n%s", a.out.String())
	}

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	// The first signal cancels the app's context: it closes its listener
	// (http.Server.Shutdown) and, beside that, stops taking signals.
	addr := strings.TrimPrefix(a.base, "http://")
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 60*time.Second, 20*time.Millisecond, "the app never took the first signal:\n%s", a.out.String())
	select {
	case <-a.done:
		return false, fmt.Sprintf("the app ended at the first signal (%v), though a request of it waits on the stalled link", a.cmd.ProcessState)
	default:
	}

	// The handler stops taking signals just after the context is
	// cancelled, in its own goroutine: a signal sent in between is still
	// the first's, as a second Ctrl+C a person presses never is. It is sent
	// again until the app ends. Ended by the signal, the process is killed
	// by it; a handler that swallows it leaves the app to end by itself
	// once its time-outs run out, with an exit status.
	second := time.Now()
	sent := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for ended := false; !ended; {
		// Reaped already (os.ErrProcessDone): done is closed next.
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			require.ErrorIs(t, err, os.ErrProcessDone)
		}
		sent++
		select {
		case <-a.done:
			ended = true
		case <-tick.C:
		}
		if !ended && time.Since(second) > 90*time.Second {
			t.Fatalf("the app still runs %v after a second SIGTERM (%d sent):\n%s", time.Since(second).Round(time.Second), sent, a.out.String())
		}
	}
	took := time.Since(second).Round(time.Millisecond)
	t.Logf("ended %v after the second signal (%d sent): %v", took, sent, a.cmd.ProcessState)
	ws, ok := a.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	if ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return true, ""
	}
	// Ended by itself: its time-outs ran out. Signals sent for seconds
	// before that were swallowed; a loaded machine may have let the
	// time-outs (15 s for the roster) run out before the handler could
	// be told from the first's, and that attempt says nothing.
	if took < 2*time.Second {
		return false, fmt.Sprintf("the app ended by itself (%v) %v after the second signal: its time-outs ran out first", a.cmd.ProcessState, took)
	}
	t.Fatalf("the second SIGTERM ends the process at once, killed by it; it ran %v more (%d sent) and ended by itself (%v), its time-outs run out: the signals were swallowed\n%s",
		took, sent, a.cmd.ProcessState, a.out.String())
	return false, ""
}

package main

import (
	"bytes"
	"context"
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

// TestGainedHamletToldWhenKilledBeforeItsSummary: a sync back-fills a
// hamlet the team gained and ends well; before its summary is printed the
// laptop fetches the team's roster, on a link that stalls just then (up to
// 15 s with nothing on the screen). The volunteer closes the lid, or
// the window (SIGTERM, SIGKILL), or presses Ctrl+C. The sync had forgotten
// its note of the back-fill as told: the hamlet gained was told by no
// sync, neither this one nor any after.
func TestGainedHamletToldWhenKilledBeforeItsSummary(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		sig  os.Signal
	}{
		{"sync/SIGTERM", []string{"sync"}, syscall.SIGTERM},
		{"sync/SIGKILL", []string{"sync"}, os.Kill},
		{"sync/SIGINT", []string{"sync"}, os.Interrupt},
		{"watch/SIGTERM", []string{"sync", "--watch"}, syscall.SIGTERM},
		{"watch/SIGKILL", []string{"sync", "--watch"}, os.Kill},
		{"watch/SIGINT", []string{"sync", "--watch"}, os.Interrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := servertest.Start(t)
			h3 := ts.OtherHamletA
			otherTeamHolds(t, ts, []string{h3}, 3)
			target, err := url.Parse(ts.URL)
			require.NoError(t, err)
			rp := httputil.NewSingleHostReverseProxy(target)
			var stall atomic.Bool
			stalled := make(chan struct{}, 8)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/roster" && stall.Load() {
					stalled <- struct{}{}
					<-r.Context().Done() // the link hangs
					return
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(proxy.Close)
			l := newLaptop(t, t.TempDir())
			l.must("enroll", "--server", proxy.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			l.mustAdd(ts.HamletsA[0], "Ngô Thị Tám")
			l.must("sync")

			_, err = ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, h3)
			require.NoError(t, err)
			stall.Store(true)
			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			defer cancel()
			cmd := l.command(ctx, c.args...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			require.NoError(t, cmd.Start())
			select {
			case <-stalled:
			case <-time.After(30 * time.Second):
				t.Fatal("no roster fetch")
			}
			require.NoError(t, cmd.Process.Signal(c.sig))
			_ = cmd.Wait()
			t.Logf("%v stopped by %v during the roster fetch:\nstdout:\n%s\nstderr:\n%s", c.args, c.sig, out.String(), errb.String())
			told := out.String()
			stall.Store(false)

			r := l.must("sync")
			t.Logf("next sync:\n%s", r.stdout)
			told += r.stdout
			require.Len(t, l.households(), 4, "the back-fill was stored")
			require.Equal(t, 1, strings.Count(told, "Tổ được giao thêm ấp/khóm "+h3), "the hamlet gained is told once:\n%s", told)
		})
	}
}

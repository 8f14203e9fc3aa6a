package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWrongAddress5xxIsNotHamlet: a volunteer types the address of
// another web application (a typo'd port): python3 -m http.server, which
// answers 501 to any POST, or an app whose every page is its 500 error page.
// That is no Hamlet server: the agent must say to check the address, not
// that the server is restarting and to try again in a few minutes (it
// would be so for ever), and sync --watch must not retry it for ever.
func TestWrongAddress5xxIsNotHamlet(t *testing.T) {
	t.Parallel()
	pyHTTP := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "SimpleHTTP/0.6 Python/3.12.3")
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusNotImplemented)
			fmt.Fprint(w, "<!DOCTYPE HTML><html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code: 501</p><p>Message: Unsupported method ('POST').</p></body></html>\n")
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<!DOCTYPE HTML><html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code: 404</p></body></html>\n")
	}
	appError := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1><p>The server encountered an internal error and was unable to complete your request.</p>\n")
	}
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{{"python http.server", pyHTTP}, {"an app's 500 page", appError}} {
		t.Run(tc.name, func(t *testing.T) {
			var hamlet atomic.Bool
			var asked atomic.Int32 // requests the other application answered
			site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hamlet.Load() {
					proxy.ServeHTTP(w, r)
					return
				}
				asked.Add(1)
				tc.h(w, r)
			}))
			defer site.Close()
			for _, lang := range []string{"vi", "en"} {
				r := cli(t, t.TempDir(), "enroll", "--server", site.URL, "--code", "FDQH-7LU9", "--lang", lang)
				t.Logf("enroll (%s): %s", lang, r.stderr)
				require.NotEqual(t, 0, r.code)
				require.NotContains(t, r.stderr, "tạm thời chưa trả lời", "a wrong address is told as a server restarting")
				require.NotContains(t, r.stderr, "not answering for now", "a wrong address is told as a server restarting")
			}

			// An enrolled laptop whose server's address now answers as
			// another application (the server moved, the address reused).
			dir := t.TempDir()
			hamlet.Store(true)
			r := cli(t, dir, "enroll", "--server", site.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			require.Equal(t, 0, r.code, r.stderr)
			hamlet.Store(false)
			asked.Store(0)
			r = cli(t, dir, "sync")
			t.Logf("sync: %s", r.stderr)
			require.NotEqual(t, 0, r.code)
			require.NotContains(t, r.stderr, "tạm thời chưa trả lời", "a wrong address is told as a server restarting")
			require.Contains(t, r.stderr, "không phải máy chủ Hamlet")
			once := asked.Load() // what one sync asks the wrong address
			require.Positive(t, once)

			// sync --watch, the binary, stops with the same message rather
			// than try the wrong address again for ever: it is going on
			// once it has asked as many times as four syncs. (Counted, not
			// timed: on a loaded machine the first try alone may take
			// long.)
			asked.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, agentBinary(t), "sync", "--watch", "--data-dir", dir)
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var werr error
			for waiting := true; waiting; {
				select {
				case werr = <-done:
					waiting = false
				case <-time.After(20 * time.Millisecond):
					if n := asked.Load(); n > 4*once {
						cancel()
						<-done
						require.Failf(t, "sync --watch went on trying a wrong address", "%d requests (one sync: %d): %s", n, once, out.String())
					}
				}
			}
			t.Logf("sync --watch: %s", out.String())
			require.Error(t, werr)
			require.NoError(t, ctx.Err(), "sync --watch did not stop: %s", out.String())
			require.Contains(t, out.String(), "không phải máy chủ Hamlet")
		})
	}
}

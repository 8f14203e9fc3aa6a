package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 173's review of 14ad220 (the move to https://), through the
// binary with the certificates trusted as the system's (SSL_CERT_FILE).
func TestHTTPSMoveStoresOnlyThisLaptopsServer(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	// Another service on the same host, on another port, with a
	// certificate the laptop trusts (httptest's, as tlsSrv's): it takes
	// any WebSocket, then closes it (chatty: after a text greeting).
	var chatty atomic.Bool
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			if chatty.Load() {
				_ = c.WriteMessage(websocket.TextMessage, []byte("welcome to the chat"))
			}
			c.Close()
		}
	}))
	defer other.Close()
	// The Hamlet server in http://; a hostile Wi-Fi answers its http://
	// with a redirect to the other service's port.
	var hostile atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostile.Load() {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	// nginx's "return 301 https://$host$request_uri", from another port.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tlsSrv.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer redirect.Close()
	ca := trustFile(t, tlsSrv)
	run := func(dir string, args ...string) result { return runTrusting(t, bin, ca, dir, args...) }
	stored := func(dir string) string { return storedServer(t, dir) }

	t.Run("--server given once is followed for that run, not told as stored", func(t *testing.T) {
		dir := t.TempDir()
		r := run(dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, 0, r.code, r.stderr)
		r = run(dir, "sync", "--server", redirect.URL)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, ts.URL, stored(dir), "--server given once was stored")
		require.NotContains(t, r.stdout+r.stderr, "đã lưu trên máy này", "told as stored, though the enrollment keeps %s", ts.URL)
		require.Contains(t, r.stdout+r.stderr, tlsSrv.URL, "the address to use from now on is not said")
	})

	for _, c := range []struct {
		name   string
		chatty bool
		says   string
	}{
		{"a hostile Wi-Fi's redirect to a service that closes the WebSocket", false, "không đồng bộ được ở đó"},
		{"a hostile Wi-Fi's redirect to a service that speaks another protocol", true, "không phải máy chủ Hamlet mà máy này đã đăng ký"},
	} {
		t.Run(c.name, func(t *testing.T) {
			chatty.Store(c.chatty)
			dir := t.TempDir()
			r := run(dir, "enroll", "--server", front.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			require.Equal(t, 0, r.code, r.stderr)
			hostile.Store(true)
			r = run(dir, "sync")
			hostile.Store(false)
			t.Logf("sync on the hostile Wi-Fi: %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			require.Equal(t, front.URL, stored(dir), "a WebSocket that is no Hamlet server, on a port the operator did not choose, is stored")
			require.NotContains(t, r.stderr, "sóng yếu", "no weak signal: %s", r.stderr)
			require.Contains(t, r.stderr, c.says, r.stderr)
			r = run(dir, "sync")
			t.Logf("sync back home: %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code, "back on the right network, the laptop no longer syncs: %s", r.stderr)
			require.NotContains(t, r.stdout+r.stderr, other.URL)
		})
	}

	t.Run("a redirect to a host that only Unicode folding makes the same", func(t *testing.T) {
		// "localhoſt" (U+017F, long s) folds to "localhost" in Unicode,
		// never in DNS: another host, not the server in https://.
		_, port, _ := strings.Cut(strings.TrimPrefix(tlsSrv.URL, "https://"), ":")
		odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://localho\u017ft:"+port+r.URL.RequestURI())
			w.WriteHeader(http.StatusMovedPermanently)
		}))
		defer odd.Close()
		_, oddPort, _ := strings.Cut(strings.TrimPrefix(odd.URL, "http://"), ":")
		dir := t.TempDir()
		r := run(dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, 0, r.code, r.stderr)
		r = run(dir, "sync", "--server", "http://localhost:"+oddPort)
		require.NotEqual(t, 0, r.code)
		require.NotContains(t, r.stderr, "https://", "told as the server moved to https://: %s", r.stderr)
	})
}

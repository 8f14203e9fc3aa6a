package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// headerCase is one request whose response must carry the security
// headers, whatever its status.
type headerCase struct {
	name, method, path, body string
	header                   http.Header
}

func headerCases(token string) []headerCase {
	upgrade := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	badVersion := upgrade.Clone()
	badVersion.Set("Sec-Websocket-Version", "7")
	withToken := func(h http.Header) http.Header {
		h = h.Clone()
		h.Set("Authorization", "Bearer "+token)
		return h
	}
	return []headerCase{
		{name: "health", method: "GET", path: "/healthz"},
		{name: "metrics", method: "GET", path: "/metrics"},
		{name: "openapi", method: "GET", path: "/api/v1/openapi.yaml"},
		{name: "api 401", method: "GET", path: "/api/v1/me"},
		{name: "api 404", method: "GET", path: "/api/v1/nothing"},
		{name: "api 415", method: "POST", path: "/api/v1/login", body: "{}"},
		{name: "enroll 400", method: "POST", path: "/v1/enroll", body: "not json"},
		{name: "method not allowed", method: "DELETE", path: "/v1/enroll"},
		{name: "sync without token", method: "GET", path: "/v1/sync", header: upgrade},
		{name: "sync without upgrade", method: "GET", path: "/v1/sync", header: withToken(http.Header{})},
		{name: "sync upgrade refused", method: "GET", path: "/v1/sync", header: withToken(badVersion)},
		{name: "login page", method: "GET", path: "/login"},
		{name: "page redirect", method: "GET", path: "/coverage"},
		{name: "static 404", method: "GET", path: "/static/nothing.css"},
	}
}

// checkHeaders sends every case to base and checks X-Content-Type-Options
// on each answer, and Strict-Transport-Security exactly when hsts.
func checkHeaders(t *testing.T, c *http.Client, base, token string, hsts bool) {
	c.Transport = apitest.Transport(t, c.Transport)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range headerCases(token) {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "status %d", resp.StatusCode)
			if hsts {
				require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"), "status %d", resp.StatusCode)
			} else {
				require.Empty(t, resp.Header.Get("Strict-Transport-Security"), "HSTS only under TLS")
			}
		})
	}
}

// Every response says nosniff, errors and the WebSocket endpoint's
// refusals included; over TLS every response also says HSTS, over plain
// HTTP none does.
func TestSecurityHeaders(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		ts := servertest.Start(t)
		dev := ts.NewDevice(t, ts.TeamA)
		checkHeaders(t, &http.Client{Timeout: 10 * time.Second}, ts.URL, dev.Token, false)
		ws, resp, err := websocket.DefaultDialer.Dial(servertest.SyncURL(ts.URL), http.Header{"Authorization": {"Bearer " + dev.Token}})
		require.NoError(t, err)
		ws.Close()
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "the upgrade's 101 too")
	})
	t.Run("https", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t)
		ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }))
		dev := ts.NewDevice(t, ts.TeamA)
		ln, _, err := server.Listen("127.0.0.1:0", certFile, keyFile)
		require.NoError(t, err)
		hs := &http.Server{Handler: httpapp.Handler(ts.Server), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		go func() { _ = hs.Serve(ln) }()
		t.Cleanup(func() { hs.Close() })
		base := "https://" + ln.Addr().String()
		tlsCfg := &tls.Config{RootCAs: pool}
		checkHeaders(t, &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}, base, dev.Token, true)
		d := websocket.Dialer{TLSClientConfig: tlsCfg, HandshakeTimeout: 5 * time.Second}
		ws, resp, err := d.DialContext(context.Background(), servertest.SyncURL(base), http.Header{"Authorization": {"Bearer " + dev.Token}})
		require.NoError(t, err)
		ws.Close()
		require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	})
}

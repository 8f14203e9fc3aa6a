package app_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 167's review of b58e8e7: a laptop enrolled with http:// whose
// server moved to https only is told on the app's sync page to run
// "hamlet-agent sync --server https://…", a terminal command the app's
// volunteer has no use for (and which, run, does not change the address
// the app syncs with).
func TestAppServerMovedToHTTPSSaysWhatToDoInTheApp(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, _ := url.Parse(ts.URL)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	a := openSyncLaptop(t, ts, ts.TeamA, nil)
	en, err := a.l.Enrollment(context.Background())
	require.NoError(t, err)
	en.Server = "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")
	require.NoError(t, a.l.SetEnrollment(context.Background(), en))
	h := newHarness(t, false, func(c *app.Config) { c.Replica = a.l })
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "token"), []byte(a.tok), 0o600))
	h.post("/sync", url.Values{})
	var body string
	require.Eventually(t, func() bool {
		_, body = h.get("/sync")
		body = html.UnescapeString(body)
		return strings.Contains(body, "https://")
	}, 60*time.Second, 100*time.Millisecond)
	require.Contains(t, body, "dùng https://")
	require.NotContains(t, body, "hamlet-agent sync", "a terminal command on the app's page")
}

// The same move, with a certificate the laptop trusts: the app syncs at
// https:// from then on, stores the address, and its sync page says so.
func TestAppServerMovedToHTTPSMovesWithIt(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, _ := url.Parse(ts.URL)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	a := openSyncLaptop(t, ts, ts.TeamA, nil)
	en, err := a.l.Enrollment(context.Background())
	require.NoError(t, err)
	en.Server = "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")
	require.NoError(t, a.l.SetEnrollment(context.Background(), en))
	trusted := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig
	h := newHarness(t, false, func(c *app.Config) { c.Replica = a.l; c.Sync.TLS = trusted })
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "token"), []byte(a.tok), 0o600))
	h.post("/sync", url.Values{})
	var body string
	require.Eventually(t, func() bool {
		_, body = h.get("/sync")
		body = html.UnescapeString(body)
		return strings.Contains(body, "địa chỉ máy chủ nay là "+tlsSrv.URL)
	}, 60*time.Second, 100*time.Millisecond, "the sync page: %s", body)
	en, err = a.l.Enrollment(context.Background())
	require.NoError(t, err)
	require.Equal(t, tlsSrv.URL, en.Server)
}

package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 173's review of 14ad220: when the app followed its server to
// https://, the sync page said "online" (and noted a successful sync)
// before any sync at the new address had run. Here the https:// side
// answers the first connection (the check that it is this laptop's
// server) and then holds every other: no sync there completes, and the
// page must never say the laptop is synced.
func TestAppServerMovedToHTTPSIsNotOnlineBeforeASync(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, _ := url.Parse(ts.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	release := make(chan struct{})
	var upgrades atomic.Int32
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && upgrades.Add(1) > 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.Error(w, "held", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer tlsSrv.Close()
	defer close(release)
	a := openSyncLaptop(t, ts, ts.TeamA, nil)
	en, err := a.l.Enrollment(context.Background())
	require.NoError(t, err)
	en.Server = "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")
	require.NoError(t, a.l.SetEnrollment(context.Background(), en))
	trusted := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig
	h := newHarness(t, false, func(c *app.Config) {
		c.Replica = a.l
		c.Sync.TLS = trusted
		c.Sync.IOTimeout = 20 * time.Second
	})
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "token"), []byte(a.tok), 0o600))
	h.post("/sync", url.Values{})
	require.Eventually(t, func() bool { return upgrades.Load() >= 2 }, 60*time.Second, 20*time.Millisecond, "the sync at the new address never began")
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		_, body := h.get("/sync/status")
		var b struct{ Class, Text string }
		require.NoError(t, json.Unmarshal([]byte(body), &b))
		require.NotEqual(t, "ok", b.Class, "told synced (%q) while no sync at %s has run", b.Text, tlsSrv.URL)
	}
}

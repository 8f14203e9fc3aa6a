package main

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestHTTPSMoveCheckRevokedStopsWatch: the laptop's server moved to
// https:// and IT staff revoked this laptop. The Hamlet server at the
// https:// address refuses the move's check before the WebSocket (HTTP
// 403, token_revoked): sync --watch must stop and say the access was
// revoked and what to do, as at the https:// address itself, not go on
// "Mất kết nối, sẽ thử lại" for ever.
func TestHTTPSMoveCheckRevokedStopsWatch(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ctx := context.Background()
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600))
	httpOfTLS := "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")

	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "household", "add", "--hamlet", ts.HamletsA[0], "--head", "Phạm Văn Dũng")
	require.Equal(t, 0, r.code, r.stderr)
	devs, err := ts.Admin.ListDevices(ctx)
	require.NoError(t, err)
	require.NoError(t, ts.Admin.RevokeDevice(ctx, devs[0].ID))

	for _, tc := range []struct{ lang, revoked, retry string }{
		{"vi", "Quyền đồng bộ của máy này đã bị thu hồi", "sẽ thử lại"},
		{"en", "sync access was revoked", "will retry"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(wctx, bin, "sync", "--watch", "--server", httpOfTLS, "--data-dir", dir, "--lang", tc.lang)
			cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
			out, err := cmd.CombinedOutput()
			t.Logf("sync --watch through the move's check: %v\n%s", err, out)
			assert.NoError(t, wctx.Err(), "sync --watch goes on for ever for a revoked laptop")
			assert.NotContains(t, string(out), tc.retry)
			assert.Contains(t, string(out), tc.revoked)
		})
	}
	// A one-shot sync says so too, and status keeps it.
	cmd := exec.Command(bin, "sync", "--server", httpOfTLS, "--data-dir", dir)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
	out, _ := cmd.CombinedOutput()
	assert.Contains(t, string(out), "Quyền đồng bộ của máy này đã bị thu hồi", "sync: %s", out)
	assert.Contains(t, string(out), "hamlet-agent enroll --server "+tlsSrv.URL, "sync: %s", out)
	r = cli(t, dir, "status")
	assert.Contains(t, r.stdout, "Quyền đồng bộ:", "status: %s", r.stdout)
}

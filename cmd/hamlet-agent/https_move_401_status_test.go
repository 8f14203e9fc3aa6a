package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestHTTPSMoveOther401StatusNotUnknown: the laptop's http:// address
// points to https:// on the same host, where something other than its
// Hamlet server answers 401 (a service behind a password, a router's page).
// The sync says it could not sync there and to tell IT staff (retryable);
// status must not tell the volunteer that the server no longer knows this
// laptop and to enroll again: nothing said so.
func TestHTTPSMoveOther401StatusNotUnknown(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="router"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
	}))
	defer other.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate().Raw}), 0o600))
	httpOfOther := "http://" + strings.TrimPrefix(other.URL, "https://")

	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)

	cmd := exec.Command(bin, "sync", "--server", httpOfOther, "--data-dir", dir)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
	out, _ := cmd.CombinedOutput()
	t.Logf("sync: %s", out)
	assert.NotContains(t, string(out), "không còn biết máy này")
	r = cli(t, dir, "status")
	t.Logf("status: %s", r.stdout)
	assert.NotContains(t, r.stdout, "Quyền đồng bộ:", "status tells a volunteer to enroll again for a 401 of something that is not their server")
}

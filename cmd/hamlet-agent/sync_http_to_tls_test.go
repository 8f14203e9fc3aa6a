package main

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 164's review of 492e248: the other way round, http:// to a
// server that speaks https only (hamlet-server --tls-cert, or a server
// moved to https after the laptops enrolled with http://) was told "is
// not a Hamlet server, check the address", though it is, at that
// address: its answer, a 400 "Client sent an HTTP request to an HTTPS
// server", says https:// is what it wants. Enrollment and sync say so.
func TestHTTPToAnHTTPSServerSaysHTTPS(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	httpURL := "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")

	r := cli(t, t.TempDir(), "enroll", "--server", httpURL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "dùng https://", r.stderr)
	require.Contains(t, r.stderr, tlsSrv.URL, "the address to type: "+r.stderr)
	require.NotContains(t, r.stderr, "không phải máy chủ Hamlet", r.stderr)

	dir := t.TempDir()
	r = cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "sync", "--server", httpURL)
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "dùng https://", r.stderr)
	require.NotContains(t, r.stderr, "không phải máy chủ Hamlet", r.stderr)
	r = cli(t, dir, "sync", "--server", httpURL, "--lang", "en")
	require.Contains(t, r.stderr, "uses https://", r.stderr)
}

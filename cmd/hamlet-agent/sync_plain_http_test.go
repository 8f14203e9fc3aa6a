package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 159 (noticed): a sync to https:// of a server that speaks plain
// HTTP still said "check the network (4G/Wi-Fi)": the WebSocket dial
// reports it as a TLS record that is no handshake, where enrollment's
// HTTP client says "HTTP response to HTTPS client". Both are told the
// server answers in http://.
func TestSyncToHTTPSOfAPlainHTTPServerSaysHTTP(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	hostport := strings.TrimPrefix(ts.URL, "http://")
	r = cli(t, dir, "sync", "--server", "https://"+hostport)
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "trả lời bằng http://", r.stderr)
	require.NotContains(t, r.stderr, "4G/Wi-Fi", r.stderr)
}

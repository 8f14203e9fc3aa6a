package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExtraWordsRefused: status, sync, compact and repair take no words
// after the command. "hamlet-agent sync https://other-server" used to sync
// with the enrolled server and exit 0, as if the address typed had been
// used; every extra word is now refused as a usage error that says what to
// do (for sync: --server, or enrolling again for another server).
func TestExtraWordsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	for _, cmd := range []string{"status", "sync", "compact", "repair"} {
		r := cli(t, dir, cmd, "thua")
		require.Equal(t, exitUsage, r.code, "%s: %s%s", cmd, r.stdout, r.stderr)
		require.Contains(t, r.stderr, `"thua"`, cmd)
		require.Contains(t, r.stderr, "hamlet-agent "+cmd+" --help", cmd)
		require.Empty(t, r.stdout, cmd)

		r = cli(t, dir, cmd, "extra", "--lang", "en")
		require.Equal(t, exitUsage, r.code, cmd)
		require.Contains(t, r.stderr, "takes no", cmd)
	}
	r := cli(t, dir, "sync", "https://other-server.example")
	require.Equal(t, exitUsage, r.code, r.stderr)
	require.Contains(t, r.stderr, "hamlet-agent enroll --server https://other-server.example --code")
	require.Contains(t, r.stderr, "--server https://other-server.example")
	require.Contains(t, r.stderr, "không nhận")
}

package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// HAMLET_PING_INTERVAL=30 (no unit) fell back to 30 s without a word: the
// operator believed the setting took (stop 43's note, helper 125). A
// duration variable set but not a positive duration is refused before
// anything starts.
func TestDurationEnvNotADurationIsRefused(t *testing.T) {
	for _, tc := range []struct{ key, val string }{
		{"HAMLET_PING_INTERVAL", "30"},
		{"HAMLET_PONG_WAIT", "một phút"},
		{"HAMLET_MAX_SKEW", "-1s"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Setenv(tc.key, tc.val)
			for _, cmd := range []string{"serve", "demo"} {
				dir := t.TempDir()
				code, _, errOut := cli(t, dir, cmd, "--addr", "127.0.0.1:0")
				require.Equal(t, 2, code, "%s: %s", cmd, errOut)
				require.Contains(t, errOut, tc.key)
				require.Contains(t, errOut, "không phải một khoảng thời gian dương")
				require.NoFileExists(t, dir+"/hamlet.db", "nothing started")
			}
		})
	}
}

package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// BenchmarkEmptyPullRoundTrip is one Pull with nothing new, over loopback:
// the per-message cost that re-reading the device before every Push and
// Pull adds to (devices.go, authorizedLocked). Run:
// go test -run '^$' -bench EmptyPullRoundTrip -count 5 ./server/
func BenchmarkEmptyPullRoundTrip(b *testing.B) {
	ts := servertest.Start(b)
	c := ts.Connect(b, ts.NewDevice(b, ts.TeamA))
	cur := c.Welcome.Cursor
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := c.Pull(cur, 100)
		require.NoError(b, err)
	}
}

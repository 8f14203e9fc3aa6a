package server_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
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

// BenchmarkPullRoundTripAboveZero is BenchmarkEmptyPullRoundTrip from a
// cursor above 0, which every pull checks against the log floor (gc.go,
// checkFloor). Run:
// go test -run '^$' -bench PullRoundTripAboveZero -count 5 ./server/
func BenchmarkPullRoundTripAboveZero(b *testing.B) {
	ts := servertest.Start(b)
	other := ts.NewDevice(b, ts.TeamA)
	w := servertest.NewWriter(other.Replica, nil)
	hamlet := ts.HamletsA[0]
	row := uuid.New()
	var cs []syncproto.Change
	for _, f := range []string{"hamlet_code", "head_name"} {
		cs = append(cs, w.Write("households", row, f, syncproto.String(hamlet), hamlet))
	}
	_, err := ts.Connect(b, other).Push(1, cs)
	require.NoError(b, err)
	c := ts.Connect(b, ts.NewDevice(b, ts.TeamA))
	ch, err := c.Pull(0, 100)
	require.NoError(b, err)
	cur := ch.To
	require.NotZero(b, cur)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := c.Pull(cur, 100)
		require.NoError(b, err)
	}
}

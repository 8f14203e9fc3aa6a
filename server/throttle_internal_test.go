package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"not-an-address", "not-an-address"},
	} {
		require.Equal(t, tc.want, addrKey(tc.in), tc.in)
	}
}

// The throttle's memory stays bounded under a spray of keys, and what it
// forgets first is the least recently failed key; the sweep drops expired
// keys.
func TestThrottleBoundedAndSwept(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(2, time.Second, time.Minute, time.Hour, 100)
	for i := range 1000 {
		th.fail("k"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
	}
	require.Equal(t, 100, th.len())
	require.Zero(t, th.wait("k0", now), "the oldest keys were forgotten")

	// A key that keeps failing stays and waits longer each time, capped.
	var last time.Duration
	for i := range 12 {
		w := th.fail("guesser", now)
		if i >= 1 {
			require.GreaterOrEqual(t, w, last)
		}
		last = w
	}
	require.Equal(t, time.Minute, last)
	require.Equal(t, time.Minute, th.wait("guesser", now))
	th.reset("guesser")
	require.Zero(t, th.wait("guesser", now))

	th.sweep(now.Add(2 * time.Hour))
	require.Zero(t, th.len())
}

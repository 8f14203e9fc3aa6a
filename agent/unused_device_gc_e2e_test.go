package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A device that never said Hello holds nothing and clones when it first
// comes: it does not hold the collection of tombstones back. Such devices
// were counted, from their enrollment, until the silence horizon (180
// days): an enrollment code used and the laptop never synced, or the
// device a fork made whose answer was lost (review 34: the laptop enrolled
// again and forked anew, and the unused device kept every tombstone of its
// team's hamlets). One that said Hello counts from that moment, its
// contact written before its Welcome, not at the next flush of activity:
// it may be cloning, and a tombstone collected meanwhile would never reach
// it.
func TestUnusedDeviceDoesNotHoldCollectionBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.FlushInterval = time.Hour }))
	hamlet := ts.HamletsA[0]
	l, tl := realAgent(t, ts, ts.TeamA)
	realSync(t, l, ts, tl)
	deleted := func(name string) {
		t.Helper()
		hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": name})
		require.NoError(t, err)
		realSync(t, l, ts, tl)
		require.NoError(t, l.Delete(ctx, "households", hh))
		realSync(t, l, ts, tl)
		realSync(t, l, ts, tl)
	}

	ts.NewDevice(t, ts.TeamA) // enrolled, never used
	deleted("Lê Thị Hoa")
	gc, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, gc.Rows, "a device that never said Hello held the tombstone back")

	// Collection from another process (hamlet-server gc) reads the store
	// alone, not the activity the serving process holds until its flush.
	hello := ts.NewDevice(t, ts.TeamA)
	deleted("Trần Văn Nam")
	_, err = ts.Admin.ListDevices(ctx) // writes the activity held so far
	require.NoError(t, err)
	ts.Connect(t, hello) // Hello, Welcome; nothing pulled yet
	gc, err = server.Collect(ctx, ts.Store, server.GCOptions{})
	require.NoError(t, err)
	require.Zero(t, gc.Rows, "a device that said Hello and has pulled nothing may be cloning: its tombstones stay")
}

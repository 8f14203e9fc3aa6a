package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestServerRestoredWritesOwnChangesUnderFreshDots: a coordinator
// dispatches a field report after a backup, and the reporter's laptop
// pulls the server's writes; the server is restored from the backup, and
// a coordinator dispatches the report again, to another agency. The
// server's sequence number came back with the backup: it numbered its new
// writes as the lost ones, and the laptop, holding those dots with the old
// values, took the new ones for duplicates and kept "Điện lực" for good.
// A restored server writes under a replica id of its log epoch.
func TestServerRestoredWritesOwnChangesUnderFreshDots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, id, restore := dispatchedAfterBackup(t)
	d, err := a.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	require.Equal(t, "Điện lực", d.Fields["agency"])
	before := agencyDot(t, a, id)

	ts2 := restore()
	require.Equal(t, ts.Server.ID(), ts2.Server.ID(), "a restore keeps the server's identity")
	time.Sleep(5 * time.Millisecond) // another dispatched_at
	_, err = ts2.Server.Transition(ctx, id, server.TransitionRequest{To: "dispatched", Agency: "UBND xã"})
	require.NoError(t, err)
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	t.Logf("agency dot before the restore %v, after %v (server id %v)", before, agencyDot(t, a, id), ts2.Server.ID())
	equalsFreshClone(t, ts2, ts2.TeamA, a)
	d, err = a.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	require.Equal(t, "UBND xã", d.Fields["agency"], "the laptop holds the restored server's dispatch")
	require.NotEqual(t, before, agencyDot(t, a, id), "the restored server's write has a dot of its own")
	require.True(t, a.ServerWriters(ctx)[agencyDot(t, a, id).Replica.String()], "the laptop names the restored server's writes the coordinators'")
}

func agencyDot(t *testing.T, r *agent.Replica, id syncproto.RowID) syncproto.Dot {
	t.Helper()
	snap, err := r.Snapshot(context.Background())
	require.NoError(t, err)
	for k, v := range snap {
		if k.Row == id && k.Field == "agency" {
			return v.Dot
		}
	}
	return syncproto.Dot{}
}

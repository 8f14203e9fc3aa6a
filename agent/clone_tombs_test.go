package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

func tombCount(t *testing.T, r *agent.Replica) int {
	var n int
	require.NoError(t, r.DB().QueryRow(`SELECT count(*) FROM tombs`).Scan(&n))
	return n
}

// A clone's deleted rows get a tombstone bound (so the agent collects them
// later) even when the session ends right after the clone's last chunk
// (found in review: the next session never noted them).
func TestClonedTombstonesTrackedAfterACutAtTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	fillCommune(t, ts, 100)
	clean, tcl := realAgent(t, ts, ts.TeamA)
	realSync(t, clean, ts, tcl)
	r, tr := realAgent(t, ts, ts.TeamA)
	cctx, cancel := context.WithCancel(ctx)
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 20}
	opts.Progress = func(p agent.Progress) {
		if p.Phase == "clone" && p.Done == p.Total {
			cancel()
		}
	}
	_, err := r.Sync(cctx, ts.URL, tr, opts)
	t.Logf("first sync: %v", err)
	realSync(t, r, ts, tr)
	realSync(t, clean, ts, tcl)
	require.Positive(t, tombCount(t, clean), "the commune has deleted rows")
	require.Equal(t, tombCount(t, clean), tombCount(t, r), "cloned tombstones get a bound")
}

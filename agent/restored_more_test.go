package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// After the restore the file writes more changes than the discarded state
// had sent: the local counter passes PushedSeq, so old and new numbers
// overlap (found in review: renumbering hit outbox.seq's uniqueness, then
// a sequence gap). Everything still reaches the server.
func TestRestoredReplicaWroteMoreThanItLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	open, path, backup := replicaFile(t)
	hamlet := ts.HamletsA[0]
	a := open()
	tok, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trước bản sao"})
	require.NoError(t, err)
	realSync(t, a, ts, tok)
	require.NoError(t, a.Close())
	restoreFile(t, path, backup)

	a = open()
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Sau bản sao"})
	require.NoError(t, err)
	realSync(t, a, ts, tok)
	require.NoError(t, a.Close())

	restoreFile(t, backup, path)
	a = open()
	defer a.Close()
	for i := 0; i < 3; i++ {
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Sau khi khôi phục " + itoa(i)})
		require.NoError(t, err)
	}
	_, err = a.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	left, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
}

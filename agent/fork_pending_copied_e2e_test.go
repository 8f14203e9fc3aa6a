package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A data folder found itself a copy and chose its new replica id, and the
// request for it did not get through; the folder was copied again then.
// Both copies hold the same chosen id: the first to ask gets the device,
// and the other was answered replica_active (the id is another device's)
// at every sync, for good (simulation wide seed 4630314, "the world does
// not come to rest"). The id chosen is only a proposal: taken, the copy
// chooses another.
func TestACopyMadeWhileAForkWaitsChoosesAnotherID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	hamlet := ts.HamletsA[0]
	dir := t.TempDir()
	paths := map[string]string{"orig": filepath.Join(dir, "orig.db"), "copy": filepath.Join(dir, "copy.db"), "second": filepath.Join(dir, "second.db")}
	open := func(name string) *agent.Replica {
		r, err := agent.OpenWith(ctx, paths[name], agent.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	orig := open("orig")
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	row, err := orig.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa"})
	require.NoError(t, err)
	realSync(t, orig, ts, tok)
	require.NoError(t, orig.Close())
	restoreFile(t, paths["orig"], paths["copy"])

	cp := open("copy")
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"phone": "0912000111"}))
	realSync(t, cp, ts, tok)

	// The original finds itself a copy; its request for a new id is lost.
	orig = open("orig")
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"notes": "của máy gốc"}))
	px, forks := forkAnswerLost(t, ts, false)
	_, err = orig.Sync(ctx, px.URL, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.Error(t, err)
	require.NotZero(t, forks.Load(), "the fork was asked for")
	require.NoError(t, orig.Close())
	restoreFile(t, paths["orig"], paths["second"])

	// The original completes its fork and syncs; the second copy comes later.
	syncFork := func(r *agent.Replica) string {
		s, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
		require.NoError(t, err)
		require.NotNil(t, s.Fork)
		tok2, err := r.PendingToken(ctx)
		require.NoError(t, err)
		require.NoError(t, r.TokenSaved(ctx))
		realSync(t, r, ts, tok2)
		return tok2
	}
	orig = open("orig")
	tokOrig := syncFork(orig)
	second := open("second")
	require.NoError(t, second.EditHousehold(ctx, row, agent.Fields{"address": "của bản sao thứ hai"}))
	tokSecond := syncFork(second)

	eo, err := orig.Enrollment(ctx)
	require.NoError(t, err)
	es, err := second.Enrollment(ctx)
	require.NoError(t, err)
	require.NotEqual(t, eo.DeviceID, es.DeviceID, "the second copy has a device of its own")
	so, err := orig.Status(ctx)
	require.NoError(t, err)
	ss, err := second.Status(ctx)
	require.NoError(t, err)
	require.NotEqual(t, so.ReplicaID, ss.ReplicaID, "the second copy writes under an id of its own")
	realSync(t, orig, ts, tokOrig)
	realSync(t, second, ts, tokSecond)
	realSync(t, cp, ts, tok)
	for name, r := range map[string]*agent.Replica{"the original": orig, "the second copy": second, "the first copy": cp} {
		d, err := r.Show(ctx, "households", row.String())
		require.NoError(t, err)
		require.Equal(t, "của máy gốc", d.Fields["notes"], name)
		require.Equal(t, "của bản sao thứ hai", d.Fields["address"], name)
		require.Equal(t, "0912000111", d.Fields["phone"], name)
	}
}

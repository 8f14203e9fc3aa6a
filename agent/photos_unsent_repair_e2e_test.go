package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A report reached the server, its photo did not (a sync without photos);
// then the replica was damaged and repaired. The repaired file has no
// record of the photos (the photos table is not salvaged), the photo's
// file is still here, the server lacks it, and the next sync sends it
// (photoWork: no row is not "uploaded"). The count of
// photos that wait (the app's line, a revoked laptop's message) must say
// so too: before 030a161 the revoked message counted it.
func TestPhotosUnsentAfterRepairCountsThePhotoStillToSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	rep := addReport(t, l, ts.HamletsA[0], nil)
	p := aPhoto(t, 31, 1200, 900)
	_, err = l.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = l.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	n, err := l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "before the repair: one photo waits")

	l = markDamagedAndRepair(t, l, path)
	require.True(t, l.HasPhoto(p.Digest, false), "the photo's file is still here")
	_, berr := ts.Store.Blob(ctx, p.Digest)
	require.Error(t, berr, "the server does not hold the photo: it is on this laptop only")
	n, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the photo only this laptop holds is counted as waiting")
}

// markDamagedAndRepair closes l, marks its file damaged and repairs it, as a
// volunteer does after a command found it damaged, and opens it again.
func markDamagedAndRepair(t *testing.T, l *agent.Replica, path string) *agent.Replica {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, l.Close())
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	_, err := agent.Repair(ctx, path, agent.Options{})
	require.NoError(t, err)
	l, err = agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

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

// A replica an agent before migration 12 marked damaged (the marker beside
// it), opened by this build: reads go on where the file allows (status,
// the app telling the volunteer to repair), as before 9c4e5aa (helper
// 141's review: Open failed on the orphan-photo pass's write).
func TestDamagedReplicaWithThePhotoPassDueStillOpens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	// as an agent before migration 12 leaves it: the pass not yet run
	_, err = l.DB().ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES ('photos_orphans', '') ON CONFLICT (key) DO NOTHING`)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))

	l, err = agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err, "a damaged replica still opens for reading")
	defer l.Close()
	_, err = l.Status(ctx)
	require.NoError(t, err)
}

// A photo of a report the pull dropped (its hamlet left the team) is noted
// away; after a repair it must still be counted as waiting and offered
// (helper 141: the rebuilt photos table lost the note, older than 9c4e5aa).
func TestRepairKeepsThePhotoOfADroppedReportWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	l, path, tok, _, p := droppedReportPhoto(t, ts, 51)
	n, err := l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "before the repair: the dropped report's photo waits")
	l = markDamagedAndRepair(t, l, path)
	require.True(t, l.HasPhoto(p.Digest, false))
	n, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "after the repair the photo only this laptop holds still waits")
	s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	_, err = ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, err, "the server gets the photo its report names (%+v)", s.Photos)
}

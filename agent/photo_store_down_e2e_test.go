package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestPhotoStoreDownCostsNoPhotoBytes: the server's photo store cannot be
// written (a full disk, a folder it cannot make). Once the server knows
// it, a laptop's photo sync is told to wait before it sends the photo, not
// after: the volunteer's mobile data is not spent on bytes the server
// throws away, at every retry of every laptop. Once the store works, the
// photo goes.
func TestPhotoStoreDownCostsNoPhotoBytes(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	blocked := filepath.Join(ts.DataDir, "blobs")
	require.NoError(t, os.WriteFile(blocked, []byte("x"), 0o600)) // the store cannot make its folder
	a, tok := realAgent(t, ts, ts.TeamA)
	rep := addReport(t, a, ts.HamletsA[0], nil)
	p := aPhoto(t, 7, 1600, 1200)
	_, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	// The first try is how the server learns its store fails.
	_, err = a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.Error(t, err)

	for i := range 3 {
		link := linktest.New(t, ts.URL[len("http://"):], 8<<20, 0)
		_, err = a.SyncPhotos(ctx, link.URL(), tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
		require.Error(t, err, "try %d: the store still fails", i)
		t.Logf("try %d: %d bytes up the link for a %d-byte photo: %v", i, link.Up(), len(p.JPEG), err)
		require.Less(t, link.Up(), int64(8<<10), "try %d: the photo's bytes went up the link to be refused (%d of %d)", i, link.Up(), len(p.JPEG))
	}

	require.NoError(t, os.Remove(blocked)) // the store works again
	var sum agent.PhotoSummary
	require.Eventually(t, func() bool {
		sum, err = a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
		return err == nil && sum.Uploaded == 1
	}, 30*time.Second, 500*time.Millisecond, "the photo goes once the store works (last: %v)", err)
}

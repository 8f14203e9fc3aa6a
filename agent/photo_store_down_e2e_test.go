package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestPhotoStoreDownCostsNoPhotoBytes: the server's photo store cannot be
// written (a full disk, a folder it cannot make). Once the server knows
// it, a laptop's photo sync is told to wait before it sends the photo, not
// after: the volunteer's mobile data is not spent on bytes the server
// throws away, at every retry of every laptop. Once the store works, the
// photo goes.
func TestPhotoStoreDownCostsNoPhotoBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	blocked := blockPhotoStore(t, ts)
	a, tok, p := photoWaiting(t, ts, 7, 1600, 1200)

	// The first try is how the server learns its store fails.
	_, err := a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
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

// TestPhotoStoreDownLeftoverProbeRecovers: the server probes its photo
// store with a one-byte upload of its own, written then deleted. A probe
// whose delete did not happen (the server stopped between the two, or the
// delete failed on the full disk) leaves that upload behind; the next time
// the store fails, every probe asked to write the byte at offset 0 again,
// was told the upload already holds one, and took that for the store still
// failing: once the disk was freed, every laptop's photos were refused
// until the server restarted.
func TestPhotoStoreDownLeftoverProbeRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	blocked := blockPhotoStore(t, ts)
	a, tok, _ := photoWaiting(t, ts, 11, 400, 300)
	_, err := a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.Error(t, err, "the store fails: the server learns it")

	require.NoError(t, os.Remove(blocked)) // the store works again...
	// ...holding what an earlier probe left (its key: 64 zeros).
	_, err = ts.Store.AppendUpload(ctx, strings.Repeat("0", 64), 0, []byte{0}, time.Now())
	require.NoError(t, err)

	var sum agent.PhotoSummary
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if sum, err = a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second}); err == nil && sum.Uploaded == 1 {
			break
		}
	}
	require.NoError(t, err, "the photo goes within 20 s of the store working again")
	require.Equal(t, 1, sum.Uploaded)
}

// blockPhotoStore makes ts's photo store fail every write (it cannot make
// its folder) and returns the path whose removal makes it work again.
func blockPhotoStore(t *testing.T, ts *servertest.TS) string {
	t.Helper()
	blocked := filepath.Join(ts.DataDir, "blobs")
	require.NoError(t, os.WriteFile(blocked, []byte("x"), 0o600))
	return blocked
}

// photoWaiting is a laptop of team A whose report went to the server
// while its photo (of w × h, from seed) waits to be sent.
func photoWaiting(t *testing.T, ts *servertest.TS, seed uint64, w, h int) (*agent.Replica, string, photo.Photo) {
	t.Helper()
	ctx := context.Background()
	a, tok := realAgent(t, ts, ts.TeamA)
	rep := addReport(t, a, ts.HamletsA[0], nil)
	p := aPhoto(t, seed, w, h)
	_, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	return a, tok, p
}

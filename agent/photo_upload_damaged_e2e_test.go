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

// TestPhotoUploadWhosePartIsGoneGoesAgain: the server holds part of a
// photo's upload, or all of it (a finish the full disk refused), and the
// file of those bytes is gone or cut short (an operator who freed the disk
// by emptying the photo store's uploads folder; a restore). The laptop's
// photo goes again, from its first byte, in that sync. A whole upload was
// refused at every sync, for good, as the photo store failing (and each
// refusal had every laptop's next upload question probe the store); half
// of one was sent on over zeros, dropped at its end for its digest, and
// sent once more at the next sync.
func TestPhotoUploadWhosePartIsGoneGoesAgain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		stored func(n int) int // how many of the photo's n bytes the server holds
		damage func(t *testing.T, part string)
	}{
		{"all of it, the file gone", func(n int) int { return n }, func(t *testing.T, part string) { require.NoError(t, os.Remove(part)) }},
		{"all of it, the file cut short", func(n int) int { return n }, func(t *testing.T, part string) { require.NoError(t, os.Truncate(part, 100)) }},
		{"half of it, the file gone", func(n int) int { return n / 2 }, func(t *testing.T, part string) { require.NoError(t, os.Remove(part)) }},
		{"half of it, the uploads folder emptied", func(n int) int { return n / 2 }, func(t *testing.T, part string) { require.NoError(t, os.RemoveAll(filepath.Dir(part))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			a, tok, p := photoWaiting(t, ts, 31, 800, 600)
			_, err := ts.Store.AppendUpload(ctx, p.Digest, 0, p.JPEG[:tc.stored(len(p.JPEG))], time.Now())
			require.NoError(t, err)
			tc.damage(t, filepath.Join(ts.DataDir, "blobs", "uploads", p.Digest+".part"))

			sum, err := a.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
			require.NoError(t, err, "the first sync sends the photo again")
			require.Equal(t, 1, sum.Uploaded, "the photo is on the server")
			got, err := ts.Store.Blob(ctx, p.Digest)
			require.NoError(t, err)
			require.Equal(t, p.JPEG, got)
		})
	}
}

package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncLockLetGoBeforeThePhotos: a sync command holds the sync lock of
// its folder so that the app's sessions stay out of its own (synclock.go):
// the server keeps one session per device. Its photos travel over HTTP,
// outside any session, and on a village's link take minutes; held through
// them, the lock kept the app from syncing the records the volunteer
// saved meanwhile, its page still saying all was synced. The app (a
// second handle on the file) looks at the lock as its Watch does while
// the command's photo goes up: free.
func TestSyncLockLetGoBeforeThePhotos(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	cli, tok := realAgent(t, ts, ts.TeamA)
	app, err := agent.Open(ctx, cli.Path())
	require.NoError(t, err)
	t.Cleanup(func() { app.Close() })
	_, err = cli.AttachPhoto(ctx, addReport(t, cli, ts.HamletsA[0], nil), aPhoto(t, 1, 1200, 900), false)
	require.NoError(t, err)

	var records, photos []bool // whether the app would wait, in each phase
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
		if p.Phase == "photos" {
			photos = append(photos, app.SyncCommandRuns())
		} else {
			records = append(records, app.SyncCommandRuns())
		}
	}}
	s, err := cli.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	require.Positive(t, s.Pushed)
	require.NotNil(t, s.Photos)
	require.Equal(t, 1, s.Photos.Uploaded)
	require.NotEmpty(t, records)
	require.NotContains(t, records, false, "the app cut in while the command pushed the records")
	require.NotEmpty(t, photos)
	require.NotContains(t, photos, true, "the app waited for the command's photos")
}

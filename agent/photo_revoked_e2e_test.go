package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A volunteer's report reached the server but its photo did not (the
// upload was cut); then IT revokes the laptop. The sync's refusal tells
// the volunteer what the laptop keeps and what to do: it must count the
// photo that is on this laptop only, or the volunteer, told "0 records",
// hands the laptop in and the photo is gone.
func TestRevokedDeviceCountsPendingPhotos(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	en, err := a.Enrollment(ctx)
	require.NoError(t, err)
	rep := addReport(t, a, ts.HamletsA[0], nil)
	p := aPhoto(t, 31, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, up)

	require.NoError(t, ts.Admin.RevokeDevice(ctx, en.DeviceID))
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	var re *agent.RevokedError
	require.ErrorAs(t, err, &re)
	vi := agent.MessageOf(err, "vi")
	t.Logf("vi: %s", vi)
	require.Contains(t, vi, "ảnh", "the refusal says a photo waits on this laptop only")
}

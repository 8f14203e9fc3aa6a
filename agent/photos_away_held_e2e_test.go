package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A volunteer files a report with a photo; the report reaches the server,
// the photo does not. The report's hamlet leaves the team, and before
// the laptop hears of it the volunteer attaches a second photo: the
// server refuses that new list, and the pull drops the report. The
// server's report still names the first photo, which only this laptop
// holds: it waits, and is sent, whether or not the volunteer has dealt
// with the refusal of the second; discarding that refusal does not
// forget it.
func TestPhotoHeldBeforeRefusedLaterListIsSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, team, g, _ := twoHamletTeam(t)
	a, ta := realAgent(t, ts, team)
	noPhotos := agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second}
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 82, 1200, 900)
	_, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)

	_, err = ts.Admin.RemoveTeamHamlet(ctx, team, g)
	require.NoError(t, err)
	tick() // the second photo is attached after the team lost the hamlet: refused
	q := aPhoto(t, 83, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, q, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)
	_, err = a.Show(ctx, "field_reports", rep.String())
	require.Error(t, err, "the report left the laptop")
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej, "the second list is refused")

	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, up, "the first photo, which the server's report names, waits to be sent")
	unsent, err := a.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, unsent, "the first photo is counted as waiting")

	for len(rej) > 0 {
		t.Logf("discard %s %s %s", rej[0].Table, rej[0].Field, rej[0].Code)
		require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
		rej, err = a.Rejected(ctx)
		require.NoError(t, err)
	}
	unsent, err = a.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, unsent, "after the discard, the first photo is still counted as waiting")

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	if s.Photos != nil {
		t.Logf("photos %+v: %s", *s.Photos, s.Photos.Message("en"))
	}
	_, berr := ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, berr, "the photo the server's report names reaches the server")
	require.NoError(t, serr)
	if s.Photos != nil {
		require.Empty(t, s.Photos.Err, "nothing refused: the second photo's naming was discarded")
	}
	require.True(t, a.HasPhoto(q.Digest, false), "the laptop keeps the second photo")
}

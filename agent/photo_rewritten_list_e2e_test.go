package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A volunteer files a report with a photo; the report reaches the server,
// the photo does not (a sync without photos). A teammate adds a second
// photo to the same report (a write of the whole list, which still names
// the first photo). Then the report's hamlet leaves the team before the
// first laptop sends its photo. The photo exists only on that laptop and
// the server's report still names it: the server must take it, and the
// volunteer must not be told the list "no longer names this one".
func TestPhotoOfReportLeftScopeAfterTeammateAddedAPhoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, team, g, _ := twoHamletTeam(t)
	a, ta := realAgent(t, ts, team)
	b, tb := realAgent(t, ts, team)
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 71, 1200, 900)
	_, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	// The teammate adds a photo of their own to the report, and sends it.
	_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	clockPast(t, a, b)
	q := aPhoto(t, 72, 1200, 900)
	_, err = b.AttachPhoto(ctx, rep, q, false)
	require.NoError(t, err)
	sb, _ := b.Sync(ctx, ts.URL, tb, agent.SyncOptions{IOTimeout: 10 * time.Second})
	_, berr := ts.Store.Blob(ctx, q.Digest)
	require.NoError(t, berr, "the teammate's photo reached the server: %+v", sb.Photos)

	serverPast(t, ts, b)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team, g)
	require.NoError(t, err)

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	msg := ""
	if s.Photos != nil {
		msg = s.Photos.Message("en")
		t.Logf("photos %+v: %s", *s.Photos, msg)
	}
	require.NotContains(t, msg, "no longer names this one", "the server's report still names the photo: the message is false")
	_, berr = ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, berr, "the photo that only this laptop holds reaches the server")
	require.NoError(t, serr)
}

// The photo's taker wrote nothing of the report the server holds any more:
// she attached her photo to a teammate's report, and the teammate then
// rewrote the list twice, adding photos of their own. The report's hamlet
// leaves the team before her photo is sent. The server refuses it
// (out_of_scope), and she is told why: the report is outside her team's
// hamlets, not that its list no longer names the photo (it does).
func TestPhotoOfReportLeftScopeRewrittenByOthersIsSaidSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, team, g, _ := twoHamletTeam(t)
	a, ta := realAgent(t, ts, team)
	b, tb := realAgent(t, ts, team)
	noPhotos := agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second}
	rep := addReport(t, b, g, nil)
	_, err := b.Sync(ctx, ts.URL, tb, noPhotos)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)
	clockPast(t, b, a)
	p := aPhoto(t, 73, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)

	_, err = b.Sync(ctx, ts.URL, tb, noPhotos)
	require.NoError(t, err)
	for i, seed := range []uint64{74, 75} {
		clockPast(t, a, b)
		_, err = b.AttachPhoto(ctx, rep, aPhoto(t, seed, 1200, 900), false)
		require.NoError(t, err, "the teammate's photo %d", i+1)
		_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{IOTimeout: 10 * time.Second})
		require.NoError(t, err)
	}
	serverPast(t, ts, b)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team, g)
	require.NoError(t, err)

	s, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err, "the records synced; the photo's refusal is the photos' own")
	require.NotNil(t, s.Photos)
	t.Logf("photos: %s", s.Photos.Message("vi"))
	require.Equal(t, 1, s.Photos.Pending)
	require.Contains(t, s.Photos.Message("en"), "the report is now in a hamlet outside your team's")
	require.NotContains(t, s.Photos.Message("en"), "no longer names this one", "the server's report still names the photo")
	require.Contains(t, s.Photos.Message("vi"), "ngoài địa bàn của tổ")
	require.True(t, a.HasPhoto(p.Digest, false), "the laptop keeps its photo")
}

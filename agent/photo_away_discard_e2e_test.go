package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A volunteer files a report with a photo in a hamlet the operator has
// just taken off the team (the laptop does not know yet): the server refuses the report, and the
// volunteer discards it. Discarding is the volunteer's own removal: the
// photo is theirs to forget, not "a photo on this laptop only" that waits
// forever and makes every sync say "do not delete it, tell IT staff".
func TestPhotoOfDiscardedRefusedReportIsNotAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, team.ID)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	tick() // the report is made after the team lost the hamlet: refused
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 31, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej, "the report is refused")
	for len(rej) > 0 {
		t.Logf("discard %s %s %s", rej[0].Table, rej[0].Field, rej[0].Code)
		require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
		rej, err = a.Rejected(ctx)
		require.NoError(t, err)
	}
	_, err = a.Show(ctx, "field_reports", rep.String())
	require.Error(t, err, "the report is discarded")

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	if s.Photos != nil {
		t.Logf("photos: pending %d: %s", s.Photos.Pending, s.Photos.Message("en"))
	}
	require.NoError(t, serr)
	if s.Photos != nil {
		require.Empty(t, s.Photos.Err, "no refusal for a report the volunteer discarded")
		require.Zero(t, s.Photos.Pending)
	}
	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Zero(t, up, "the photo of a discarded report does not wait")
}

// The report's hamlet leaves the team before its photo is sent (the photo
// is noted away), then comes back: the report is on the laptop again, and
// the volunteer deletes it before the photo went. When the hamlet leaves
// once more, the deleted report's photo is nobody's: the old note must not
// bring it back as "on this laptop only", refused and pending for good.
func TestPhotoAwayNoteOfReportBackThenDeletedIsForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, team.ID)
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 32, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	noPhotos := agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second}
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos) // the report leaves: its photo is noted away
	require.NoError(t, err)
	_, err = ts.Admin.AddTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos) // the report is back
	require.NoError(t, err)
	_, err = a.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err, "the report is back on the laptop")

	require.NoError(t, a.Delete(ctx, "field_reports", rep)) // the volunteer's own delete
	_, err = a.Sync(ctx, ts.URL, ta, noPhotos)
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, serr)
	if s.Photos != nil {
		t.Logf("photos: pending %d: %s", s.Photos.Pending, s.Photos.Message("en"))
		require.Empty(t, s.Photos.Err, "no refusal for a report the volunteer deleted")
	}
	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Zero(t, up, "the photo of a report the volunteer deleted does not wait")
}

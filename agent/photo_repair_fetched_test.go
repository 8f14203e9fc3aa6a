package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 142: a teammate's photo this laptop opened in full (FetchPhoto:
// the server's, kept as uploaded), whose report a pull then dropped (its
// hamlet left the team). A repair rebuilds the photos table from the files
// and 2bfbff3's pass notes it away with an unknown report: it is offered
// as this laptop's own, refused (out_of_scope: another device named it),
// counted as waiting forever and told as "exists only on this laptop".
// A teammate's photo this laptop had fetched in full, whose report a pull
// then dropped: a repair (which notes every unnamed photo as away, 2bfbff3)
// offered it as this laptop's own, the server refused it (another device
// named it), and the volunteer was told it existed only here, at every
// sync (helper 142). A photo of an unknown report refused for good is
// forgotten silently.
func TestRepairDoesNotClaimATeammatesFetchedPhoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 9", []string{g, h})
	require.NoError(t, err)
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second}

	// B, the teammate, takes the photo; the server gets it.
	b, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "b.db"), agent.Options{})
	require.NoError(t, err)
	defer b.Close()
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, team.ID), "máy B")
	require.NoError(t, err)
	rep := addReport(t, b, g, nil)
	p := aPhoto(t, 61, 1200, 900)
	_, err = b.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = b.Sync(ctx, ts.URL, tb, opts)
	require.NoError(t, err)
	_, err = ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, err)

	// A receives the report and opens its photo in full.
	path := filepath.Join(t.TempDir(), "a.db")
	a, err := agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, team.ID), "máy A")
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	_, ok, err := a.FetchPhoto(ctx, ts.URL, ta, p.Digest, opts)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, a.HasPhoto(p.Digest, false))

	// The hamlet leaves the team: A's pull drops the report.
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	n, err := a.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, n, "before the repair: nothing of A's waits")
	a = markDamagedAndRepair(t, a, path)
	s, err := a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	n, err = a.PhotosUnsent(ctx)
	require.NoError(t, err)
	var told string
	if s.Photos != nil {
		told = s.Photos.Err
	}
	require.Equal(t, 0, n, "after the repair and a sync, the teammate's photo (on the server) is told as waiting; the sync said: %q", told)
	require.Empty(t, told, "the sync after the repair tells the teammate's photo as lost")
}

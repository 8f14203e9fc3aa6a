package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// An agent built before agent migration 11 (photos.away) dropped a report
// from the laptop when its hamlet left the team, with no note of the photo
// the report named that the server had not confirmed. After the upgrade
// that photo sat in the photos table (uploaded 0, away NULL) named by
// nothing here: never offered, never counted, while the server held the
// report naming it (found by helper 134 with real old and new binaries).
// The state is made as that agent left it: the report dropped by a real
// pull, the note taken off, the one-time pass marked as not yet run.
// Opened by this build, the photo is counted as waiting and sent.
func TestPhotoOrphanedBeforePhotosAwayIsSentAfterUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	l, path, tok, rep, p := droppedReportPhoto(t, ts, 41)
	var n int
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM field_reports WHERE id = ?`, rep.String()).Scan(&n))
	require.Zero(t, n, "the pull dropped the report")

	// As the old agent left it.
	oldState(t, l)
	unsent, err := l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, unsent, "the old state: nothing says the photo waits")
	require.NoError(t, l.Close())

	l, err = agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	require.NoError(t, l.Check(ctx))
	unsent, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, unsent, "after the upgrade the photo only this laptop holds is counted as waiting")
	up, _, err := l.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, up, "and offered")

	s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NotNil(t, s.Photos)
	require.Empty(t, s.Photos.Message("en"))
	require.Equal(t, 1, s.Photos.Uploaded)
	_, err = ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, err, "the server holds the photo its report names")
	unsent, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, unsent, "nothing waits any more")

	// The pass runs once: a photo this build leaves named by nothing is
	// its own matter, not taken for one the old agent left.
	q := aPhoto(t, 42, 1000, 800)
	require.NoError(t, l.KeepPhoto(ctx, q))
	require.NoError(t, l.Close())
	l = agenttest.Open(t, path)
	var away *string
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT away FROM photos WHERE digest = ?`, q.Digest).Scan(&away))
	require.Nil(t, away, "a later open leaves a new photo named by nothing as it is")
	unsent, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, unsent)
}

// The same state for a photo no report names anywhere: its report was
// removed on the laptop before it ever synced. After the upgrade it is
// offered once; the server answers photo_unreferenced, and the photo is
// no longer offered nor counted, with nothing said: it is nobody's loss.
func TestPhotoOrphanedBeforePhotosAwayNamedNowhereIsForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	p := aPhoto(t, 43, 1200, 900)
	require.NoError(t, l.KeepPhoto(ctx, p)) // its report is gone, and never reached the server
	oldState(t, l)
	require.NoError(t, l.Close())

	l = agenttest.Open(t, path)
	unsent, err := l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, unsent, "waiting until the server says")
	s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	if s.Photos != nil {
		require.Empty(t, s.Photos.Message("en"), "nothing is said")
		require.Zero(t, s.Photos.Pending)
	}
	_, err = ts.Store.Blob(ctx, p.Digest)
	require.Error(t, err)
	unsent, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, unsent, "no longer counted")
	up, _, err := l.PhotosPending(ctx)
	require.NoError(t, err)
	require.Zero(t, up, "no longer offered")
	require.True(t, l.HasPhoto(p.Digest, false), "the file stays")
	s, err = l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Nil(t, s.Photos, "the next sync has no photo to send")
}

// oldState makes a replica's photos as an agent built before photos.away
// left them: no note of a dropped report, and the one-time pass of this
// build not yet run.
func oldState(t *testing.T, l *agent.Replica) {
	t.Helper()
	ctx := context.Background()
	_, err := l.DB().ExecContext(ctx, `UPDATE photos SET away = NULL`)
	require.NoError(t, err)
	_, err = l.DB().ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES ('photos_orphans', '') ON CONFLICT (key) DO NOTHING`)
	require.NoError(t, err)
}

// A proxy in front of the server answering 502 while the server restarts
// says nothing of whose a photo is: an unknown-report photo stays waiting
// and goes once the server answers (helper 143: 7c8c4a7 forgot it on any
// failure that was neither retryable nor "later").
func TestPhotoOfUnknownReportWaitsThroughAProxyError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	var down atomic.Bool
	down.Store(true)
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && strings.HasPrefix(r.URL.Path, "/v1/photos/") {
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	path := filepath.Join(t.TempDir(), "l.db")
	l, err := agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	p := aPhoto(t, 47, 1200, 900)
	require.NoError(t, l.KeepPhoto(ctx, p))
	oldState(t, l)
	require.NoError(t, l.Close())
	l = agenttest.Open(t, path)

	_, err = l.Sync(ctx, proxy.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	t.Logf("sync through the failing proxy: %v", err)
	unsent, err := l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, unsent, "a proxy's 502 keeps the photo waiting")
	down.Store(false)
	_, err = l.Sync(ctx, proxy.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	unsent, err = l.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, unsent, "the server, answering, says whose it is (here: nobody's)")
}

// droppedReportPhoto: a laptop (at path, with token tok) of a team of two
// hamlets files a report in one with a photo, syncs the records without
// the photo, and the team loses that hamlet: the next pull drops the
// report, and the photo is left that only this laptop holds.
func droppedReportPhoto(t *testing.T, ts *servertest.TS, seed uint64) (l *agent.Replica, path, tok string, rep uuid.UUID, p photo.Photo) {
	t.Helper()
	ctx := context.Background()
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	path = filepath.Join(t.TempDir(), "l.db")
	l, err = agent.OpenWith(ctx, path, agent.Options{})
	require.NoError(t, err)
	tok, _, err = l.Enroll(ctx, ts.URL, ts.EnrollCode(t, team.ID), "máy")
	require.NoError(t, err)
	rep = addReport(t, l, g, nil)
	p = aPhoto(t, seed, 1200, 900)
	_, err = l.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	noPhotos := agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second}
	_, err = l.Sync(ctx, ts.URL, tok, noPhotos)
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	_, err = l.Sync(ctx, ts.URL, tok, noPhotos)
	require.NoError(t, err)
	return l, path, tok, rep, p
}

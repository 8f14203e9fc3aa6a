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

// copyFolder copies a closed replica file and its photos folder into dir.
func copyFolder(t *testing.T, from, dir string) string {
	t.Helper()
	to := filepath.Join(dir, filepath.Base(from))
	restoreFile(t, from, to)
	src, dst := filepath.Join(filepath.Dir(from), "photos"), filepath.Join(dir, "photos")
	require.NoError(t, os.MkdirAll(dst, 0o700))
	es, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return to
}

// A volunteer's report reaches the server, its photo waits (a sync without
// photos). The data folder is copied to a second laptop, photos and all.
// The original syncs on; the copy finds itself a copy and takes a replica
// id of its own. Then the report's hamlet leaves the team. The photo's
// naming was written under the old id, which is now the original's only
// (or nobody's, when the original is gone): the copy must still be able
// to send it, and neither copy may count it as waiting once the server
// holds it.
func TestForkedCopyPhotoOfReportLeftScope(t *testing.T) {
	t.Parallel()
	for _, origGone := range []bool{false, true} {
		t.Run(map[bool]string{false: "original syncs photos first", true: "original gone"}[origGone], func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			g, h := ts.OtherHamletA, ts.HamletsA[0]
			team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
			require.NoError(t, err)
			origPath := filepath.Join(t.TempDir(), "replica.db")
			orig := openFile(t, origPath)
			tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, team.ID), "máy gốc")
			require.NoError(t, err)
			rep := addReport(t, orig, g, nil)
			p := aPhoto(t, 31, 1200, 900)
			_, err = orig.AttachPhoto(ctx, rep, p, false)
			require.NoError(t, err)
			_, err = orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			require.NoError(t, orig.Close())
			cpPath := copyFolder(t, origPath, t.TempDir())

			// The original writes on and syncs (no photos): the copy is behind.
			orig = openFile(t, origPath)
			_, err = orig.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Lê Thị Hoa"})
			require.NoError(t, err)
			_, err = orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)

			// The copy finds itself a copy.
			cp := openFile(t, cpPath)
			s, err := cp.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			require.NotNil(t, s.Fork, "the copy takes an id of its own")
			tokCp, err := cp.PendingToken(ctx)
			require.NoError(t, err)
			require.NoError(t, cp.TokenSaved(ctx))

			_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
			require.NoError(t, err)

			if !origGone {
				s, err := orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
				require.NoError(t, err)
				t.Logf("original: photos %+v", s.Photos)
			}
			s, serr := cp.Sync(ctx, ts.URL, tokCp, agent.SyncOptions{IOTimeout: 10 * time.Second})
			if s.Photos != nil {
				t.Logf("copy: photos %+v: %s", *s.Photos, s.Photos.Message("en"))
			}
			_, berr := ts.Store.Blob(ctx, p.Digest)
			require.NoError(t, berr, "the photo reaches the server")
			require.NoError(t, serr)
			names := map[string]*agent.Replica{"copy": cp}
			if !origGone {
				names["original"] = orig
			}
			for name, r := range names {
				up, _, err := r.PhotosPending(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, up, "%s: nothing waits", name)
				n, err := r.PhotosUnsent(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, n, "%s: nothing said to wait", name)
			}
		})
	}
}

// Photos of both copies: one attached before the copy (on both), one
// attached on each after. The second copy to sync forks. Each copy counts
// what waits on it, says so when revoked, and after the photos are sent
// nothing waits and the shared photo was sent once.
func TestForkedCopiesPhotosCounted(t *testing.T) {
	t.Parallel()
	for _, revoke := range []bool{false, true} {
		t.Run(map[bool]string{false: "sent", true: "revoked"}[revoke], func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			h := ts.HamletsA[0]
			origPath := filepath.Join(t.TempDir(), "replica.db")
			orig := openFile(t, origPath)
			tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
			require.NoError(t, err)
			shared := aPhoto(t, 41, 1200, 900)
			_, err = orig.AttachPhoto(ctx, addReport(t, orig, h, nil), shared, false)
			require.NoError(t, err)
			_, err = orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			require.NoError(t, orig.Close())
			cpPath := copyFolder(t, origPath, t.TempDir())
			orig = openFile(t, origPath)
			cp := openFile(t, cpPath)
			po, pc := aPhoto(t, 42, 1200, 900), aPhoto(t, 43, 1200, 900)
			_, err = orig.AttachPhoto(ctx, addReport(t, orig, h, nil), po, false)
			require.NoError(t, err)
			_, err = cp.AttachPhoto(ctx, addReport(t, cp, h, nil), pc, false)
			require.NoError(t, err)
			_, err = orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			s, err := cp.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			require.NotNil(t, s.Fork)
			tokCp, err := cp.PendingToken(ctx)
			require.NoError(t, err)
			require.NoError(t, cp.TokenSaved(ctx))
			toks := map[*agent.Replica]string{orig: tok, cp: tokCp}
			names := map[string]*agent.Replica{"original": orig, "copy": cp}
			for name, r := range names {
				up, _, err := r.PhotosPending(ctx)
				require.NoError(t, err)
				require.Equal(t, 2, up, name)
				n, err := r.PhotosUnsent(ctx)
				require.NoError(t, err)
				require.Equal(t, 2, n, name)
			}
			if revoke {
				for name, r := range names {
					en, err := r.Enrollment(ctx)
					require.NoError(t, err)
					require.NoError(t, ts.Admin.RevokeDevice(ctx, en.DeviceID))
					_, err = r.Sync(ctx, ts.URL, toks[r], agent.SyncOptions{IOTimeout: 10 * time.Second})
					var re *agent.RevokedError
					require.ErrorAs(t, err, &re, name)
					require.Equal(t, 2, re.Photos, name)
					require.Contains(t, agent.MessageOf(err, "en"), "2 photos", name)
				}
				return
			}
			so := realSync(t, orig, ts, tok)
			sc := realSync(t, cp, ts, tokCp)
			require.NotNil(t, so.Photos)
			require.NotNil(t, sc.Photos)
			require.Equal(t, 2, so.Photos.Uploaded)
			require.Equal(t, 2, sc.Photos.Uploaded)
			require.Equal(t, int64(len(shared.JPEG)), sc.Photos.Skipped, "the shared photo is not sent twice")
			for _, p := range []string{shared.Digest, po.Digest, pc.Digest} {
				_, err := ts.Store.Blob(ctx, p)
				require.NoError(t, err)
			}
			for name, r := range names {
				up, th, err := r.PhotosPending(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, up, name)
				n, err := r.PhotosUnsent(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, n, name)
				_ = th
			}
			realSync(t, orig, ts, tok)
			for name, r := range names {
				_, th, err := r.PhotosPending(ctx)
				require.NoError(t, err)
				require.Equal(t, 0, th, "%s: the other copy's thumbnail is here", name)
			}
		})
	}
}

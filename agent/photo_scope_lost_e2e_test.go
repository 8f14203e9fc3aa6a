package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A volunteer files a report with a photo; the report reaches the server,
// the photo does not (a sync without photos, a cut link). Then the
// operator takes the report's hamlet off the team, and the next pull
// drops the report from the laptop before photos are sent. The photo is
// on that laptop only: it must still be offered, counted as waiting, and
// taken by the server from the device that named it.
func TestPhotoOfReportWhoseHamletLeftScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, team.ID)
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 21, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, up, "the photo waits to be sent")

	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	t.Logf("sync err=%v photos=%+v", serr, s.Photos)
	require.NoError(t, serr)
	_, berr := ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, berr, "the photo reaches the server")
	up, _, err = a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, up, "nothing waits any more")
	require.True(t, a.HasPhoto(p.Digest, false), "the laptop keeps its photo")

	// Sending it gave no other access: the report is not the device's to
	// see, so neither is its photo.
	code, st := photoGet(t, ts.URL+"/v1/photos/"+p.Digest+"/thumb", ta)
	require.Equal(t, http.StatusForbidden, st)
	require.Equal(t, syncproto.CodeOutOfScope, code)
}

// The server takes a photo of a report outside a device's scope only from
// the device whose replica named it: any other device of any team still
// gets out_of_scope, for the upload as for the photo.
func TestPhotoOfReportOutsideScopeNotFromOtherDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, team.ID)
	_, tb := realAgent(t, ts, team.ID) // a teammate's laptop, same team
	_, tc := realAgent(t, ts, ts.TeamA)
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 22, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)

	for _, tok := range []string{tb, tc} {
		code, st := photoGet(t, ts.URL+"/v1/photos/"+p.Digest+"/upload", tok)
		require.Equal(t, http.StatusForbidden, st)
		require.Equal(t, syncproto.CodeOutOfScope, code)
	}
	code, st := photoGet(t, ts.URL+"/v1/photos/"+p.Digest+"/upload", ta)
	require.Equal(t, http.StatusOK, st, "the device that named it may send it")
	require.Empty(t, code)
}

func photoGet(t *testing.T, url, token string) (syncproto.Code, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body struct {
		Error *struct {
			Code syncproto.Code `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &body)
	if body.Error == nil {
		return "", resp.StatusCode
	}
	return body.Error.Code, resp.StatusCode
}

// The report whose hamlet left the team is deleted on the server (by the
// team that took the hamlet) before its photo is sent: the server refuses
// the photo for good. The volunteer is told, the photo stays on the laptop
// and is still counted as waiting: never dropped in silence.
func TestPhotoOfReportLeftScopeRefusedIsSaid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, team.ID)
	rep := addReport(t, a, g, nil)
	p := aPhoto(t, 23, 1200, 900)
	_, err = a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
	require.NoError(t, err)
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	other, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 4", []string{g})
	require.NoError(t, err)
	b, tb := realAgent(t, ts, other.ID)
	_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NoError(t, b.Delete(ctx, "field_reports", rep))
	_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	s, serr := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, serr, "the records synced; the photo's refusal is the photos' own")
	require.NotNil(t, s.Photos)
	t.Logf("photos: %s", s.Photos.Message("vi"))
	require.Equal(t, 1, s.Photos.Pending)
	require.Contains(t, s.Photos.Message("en"), "The server no longer takes the photo of report "+rep.String())
	require.Contains(t, s.Photos.Message("en"), "the report was deleted")
	require.NotContains(t, s.Photos.Message("en"), "Sync again so the report goes first", "a hint for a laptop that holds the report")
	require.Contains(t, s.Photos.Message("vi"), rep.String())
	up, _, err := a.PhotosPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, up, "still waiting, and said so")
	require.True(t, a.HasPhoto(p.Digest, false), "the laptop keeps its photo")
}

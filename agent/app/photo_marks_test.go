package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

func appOnServer(t *testing.T, ts *servertest.TS) *harness {
	t.Helper()
	h := newHarness(t, false, func(c *app.Config) {
		c.Sync = agent.SyncOptions{PollInterval: 100 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, IOTimeout: 10 * time.Second}
	})
	tok, _, err := h.r.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	require.NoError(t, agent.WriteToken(filepath.Join(h.dir, "token"), tok))
	status, body, _ := h.post("/sync", url.Values{})
	require.Equal(t, http.StatusSeeOther, status, body)
	return h
}

func waitBody(t *testing.T, h *harness, path, want string) string {
	t.Helper()
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, body = h.get(path); strings.Contains(body, want) {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q:\n%s", path, want, stripTags(body))
	return ""
}

// TestAppTeammatePhotoNotOnServerIsNotSent: a teammate's report names a
// photo the teammate has not sent yet (its sync carried the records
// only). The server does not hold it; this laptop has neither the photo
// nor its thumbnail. The report's page must not say the photo was sent to
// the server.
func TestAppTeammatePhotoNotOnServerIsNotSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	// The teammate: a report with a photo, records synced, photo not sent.
	b := agenttest.New(t)
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy bạn")
	require.NoError(t, err)
	rep, err := b.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": ts.HamletsA[0], "category": "ha_tang_do_thi", "description": "Đường ngập sau mưa"})
	require.NoError(t, err)
	p, err := agent.PreparePhoto("anh.jpg", phototest.JPEG(phototest.Image(800, 600, true, 7), 85), photo.Limits{})
	require.NoError(t, err)
	_, err = b.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{NoPhotos: true, IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	_, berr := ts.Store.Blob(ctx, p.Digest)
	require.Error(t, berr, "the server does not hold the photo")

	h := appOnServer(t, ts)
	body := waitBody(t, h, "/reports/"+rep.String(), p.Digest[:8])
	require.Contains(t, body, "chưa có trên máy", "neither the photo nor its thumbnail is here")
	require.NotContains(t, body, "đã gửi lên máy chủ", "the server does not have this photo: it was not sent")
}

// TestAppDeletedReportPhotoIsNotSaidToBeSent: a report with a photo not
// sent yet is deleted on the laptop. Its photo is no longer offered to the
// server (photoWork) nor counted as waiting (PhotosUnsent): the report's
// page must not tell the volunteer that Hamlet sends it at a sync.
func TestAppDeletedReportPhotoIsNotSaidToBeSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	ctx := context.Background()
	jpg := phototest.JPEG(phototest.Image(800, 600, true, 3), 85)
	form := map[string]string{"hamlet_code": hamlet1, "category": "ha_tang_do_thi", "description": "Cống bị tắc", "consent_disclose": "no"}
	st, body, _ := h.postFiles("/reports/new", form, map[string][]byte{"a.jpg": jpg})
	require.Equal(t, 303, st, body)
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	rid := recs[0].ID
	_, body = h.get("/reports/" + rid)
	require.Contains(t, body, `class="photo-state waiting"`, "before the delete: waiting")
	require.NoError(t, h.r.Delete(ctx, "field_reports", uuid.MustParse(rid)))
	up, _, err := h.r.PhotosPending(ctx)
	require.NoError(t, err)
	require.Zero(t, up, "the deleted report's photo is not offered to the server")
	n, err := h.r.PhotosUnsent(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nor counted as waiting")
	_, body = h.get("/reports/" + rid)
	require.NotContains(t, body, "Hamlet tự gửi khi đồng bộ", "the deleted report's page promises a send that never happens")
}

// TestAppRefusedReportPhotoIsNotSaidToBeRetried: the server refuses a
// report (its household is unknown to the server). Its photo is never
// offered to the server while the refusal stands (photoWork: the server
// takes a photo only once a report it holds names it), and the CLI's sync
// says nothing of it; the app must not tell the volunteer that Hamlet
// retries it by itself and there is nothing to do.
func TestAppRefusedReportPhotoIsNotSaidToBeRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	h := appOnServer(t, ts)
	rep, err := h.r.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": ts.HamletsA[0], "category": "ha_tang_do_thi",
		"description": "Cống bị tắc", "household_id": uuid.NewString()})
	require.NoError(t, err)
	p, err := agent.PreparePhoto("anh.jpg", phototest.JPEG(phototest.Image(800, 600, true, 9), 85), photo.Limits{})
	require.NoError(t, err)
	_, err = h.r.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	status, body, _ := h.post("/sync", url.Values{})
	require.Equal(t, http.StatusSeeOther, status, body)
	// The report's fields and the photo's naming (photo_digests, written
	// by AttachPhoto) may go in two pushes: the app's Watch may have sent
	// the report before the photo was attached, and a change sent waits
	// for the server's answer (not pending then, not refused yet). The
	// first refusal is not the naming's: the page is read once the
	// naming itself is refused. (500 ms after the first refusal, as
	// before, was not always enough on a loaded machine: the naming still
	// waited, and the page rightly said its photo would go.)
	namingRefused := func() bool {
		rej, err := h.r.Rejected(ctx)
		require.NoError(t, err)
		for _, x := range rej {
			if x.Row == rep.String() && x.Field == schema.PhotoDigestsField {
				return true
			}
		}
		return false
	}
	require.Eventually(t, namingRefused, 60*time.Second, 100*time.Millisecond, "the photo's naming was never refused")
	// A photo transfer after the refusal, run here to its end rather than
	// waited for (the app's own polls were given 500 ms, which a loaded
	// machine may spend before the first): had it offered the refused
	// report's photo, the server would have refused it too.
	tok, err := agent.ReadToken(filepath.Join(h.dir, "token"))
	require.NoError(t, err)
	ps, err := h.r.SyncPhotos(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 30 * time.Second})
	require.NoError(t, err)
	require.Zero(t, ps.Uploaded+ps.Pending, "the transfer leaves the refused report's photo alone: %+v", ps)
	up, _, err := h.r.PhotosPending(ctx)
	require.NoError(t, err)
	require.Zero(t, up, "the refused report's photo is not offered to the server")
	_, body = h.get("/sync")
	require.NotContains(t, body, "tự thử lại, bạn không cần làm gì", "Hamlet does not retry this photo: the report's refusal is to be fixed first")
}

// TestAppOnePhotoWaitingInEnglishIsSingular: one photo waits (the server
// cannot store it); the English line speaks of one photo, not of "them".
func TestAppOnePhotoWaitingInEnglishIsSingular(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	require.NoError(t, os.WriteFile(filepath.Join(ts.DataDir, "blobs"), []byte("x"), 0o600))
	h := appOnServer(t, ts)
	jpg := phototest.JPEG(phototest.Image(800, 600, true, 5), 85)
	status, body, _ := h.postFiles("/reports/new", map[string]string{"hamlet_code": ts.HamletsA[0], "category": "ha_tang_do_thi",
		"description": "Cống bị tắc", "consent_disclose": "no"}, map[string][]byte{"IMG_0002.jpg": jpg})
	require.Equal(t, http.StatusSeeOther, status, body)
	waitBody(t, h, "/sync", "Máy chủ tạm thời không lưu được dữ liệu")
	h.c.Jar.SetCookies(mustURL(t, h.base), []*http.Cookie{{Name: "hamlet_lang", Value: "en", Path: "/"}})
	_, body = h.get("/sync")
	require.Contains(t, body, "1 photo not sent yet")
	require.NotContains(t, body, "send them", "one photo")
	require.NotContains(t, body, "the photos are safe", "one photo")
}

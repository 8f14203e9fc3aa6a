package app_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// postFiles sends a multipart form as the app's page does (its CSRF token,
// its Origin), with files under "photo".
func (h *harness) postFiles(path string, fields map[string]string, files map[string][]byte) (int, string, string) {
	h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields["csrf"] = h.csrf()
	for k, v := range fields {
		require.NoError(h.t, mw.WriteField(k, v))
	}
	for name, b := range files {
		fw, err := mw.CreateFormFile("photo", name)
		require.NoError(h.t, err)
		_, err = fw.Write(b)
		require.NoError(h.t, err)
	}
	require.NoError(h.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, h.base+path, &body)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", h.base)
	resp, err := h.c.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// TestAppPhotos: the volunteer files a report with a photo in the app
// (its GPS taken only because the box was ticked), a fake image is
// refused with a message and saves nothing, the list shows the
// thumbnail; a teammate's photo arrives as a thumbnail at the sync and
// is fetched from the server, and kept, when the volunteer opens it.
func TestAppPhotos(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	h := newHarness(t, false)
	tok, _, err := h.r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	require.NoError(t, agent.WriteToken(filepath.Join(h.dir, "token"), tok))
	hamlet := ts.HamletsA[0]
	caMau := [2]float64{9.176944, 105.150278}
	jpg := phototest.WithEXIF(phototest.JPEG(phototest.Image(2000, 1500, true, 1), 85), phototest.EXIF(1, &caMau))
	form := func() map[string]string {
		return map[string]string{"hamlet_code": hamlet, "category": "ha_tang_do_thi", "description": "Cống bị tắc", "consent_disclose": "no"}
	}

	status, body, _ := h.postFiles("/reports/new", form(), map[string][]byte{"anh.jpg": []byte("không phải ảnh")})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "không phải ảnh JPEG, PNG hay WebP")
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, recs, "nothing saved")

	f := form()
	f["use_photo_location"] = "yes"
	status, body, loc := h.postFiles("/reports/new", f, map[string][]byte{"IMG_1.jpg": jpg})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/reports?done=report", loc)
	recs, err = h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	ds := schema.PhotoDigests(recs[0].Fields[schema.PhotoDigestsField])
	require.Len(t, ds, 1)
	require.InDelta(t, caMau[0], recs[0].Fields["lat"], 1e-5)
	_, body = h.get("/reports")
	require.Contains(t, body, `<img src="/photos/`+ds[0]+`/thumb"`)
	status, body = h.get("/photos/" + ds[0] + "/thumb")
	require.Equal(t, http.StatusOK, status)
	in, err := photo.Inspect([]byte(body), photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, photo.ThumbSide, in.Width)
	status, _ = h.get("/photos/" + photo.Digest([]byte("x")))
	require.Equal(t, http.StatusNotFound, status, "only photos the laptop's reports name")

	// A teammate's report and photo.
	b := agenttest.New(t)
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy B")
	require.NoError(t, err)
	theirs := phototest.JPEG(phototest.Image(1200, 800, true, 2), 85)
	p, err := agent.PreparePhoto("b.jpg", theirs, photo.Limits{})
	require.NoError(t, err)
	rid, err := b.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": hamlet, "category": "ve_sinh_moi_truong", "description": "Rác"})
	require.NoError(t, err)
	_, err = b.AttachPhoto(ctx, rid, p, false)
	require.NoError(t, err)
	_, err = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{})
	require.NoError(t, err)
	_, err = h.r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	require.NoError(t, err)
	// The app itself starts syncing within seconds of the token appearing
	// (its Watch), and may have fetched or sent them first (its summary then
	// says nothing of photos), or hold the same photo or thumbnail as this
	// sync returns (the rest is then its next poll's): what counts is that
	// nothing is left to fetch or send, waited for as a state rather than
	// read at the moment this sync returned.
	var uploads, thumbs int
	thumbHere := false
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		uploads, thumbs, err = h.r.PhotosPending(ctx)
		require.NoError(t, err)
		thumbHere = h.r.HasPhoto(p.Digest, true)
		if thumbHere && uploads+thumbs == 0 || time.Now().After(deadline) {
			break
		}
	}
	require.True(t, thumbHere, "the teammate's thumbnail arrived at the sync")
	require.Equal(t, [2]int{0, 0}, [2]int{uploads, thumbs}, "this laptop's own photo went up after its report, and no thumbnail waits")

	_, body = h.get("/reports/" + rid.String())
	require.Contains(t, body, `<img src="/photos/`+p.Digest+`/thumb"`)
	require.False(t, h.r.HasPhoto(p.Digest, false))
	status, body = h.get("/photos/" + p.Digest)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, p.JPEG, []byte(body))
	require.True(t, h.r.HasPhoto(p.Digest, false), "kept once opened")

	// Attach on the report's page: a bad file is refused, a good one added.
	status, body, _ = h.postFiles("/reports/"+rid.String()+"/photos", map[string]string{}, map[string][]byte{"bom.png": pngClaiming(30000, 30000)})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "30000 × 30000")
	status, _, loc = h.postFiles("/reports/"+rid.String()+"/photos", map[string]string{}, map[string][]byte{"c.png": phototest.PNG(phototest.Image(300, 200, false, 3))})
	require.Equal(t, http.StatusSeeOther, status)
	require.Equal(t, "/reports/"+rid.String()+"?done=photo", loc)
	_, body = h.get(loc)
	require.Len(t, regexp.MustCompile(`<img src="/photos/[0-9a-f]{64}/thumb"`).FindAllString(body, -1), 2)
	require.True(t, strings.Contains(body, "Đã gắn ảnh"))
}

// pngClaiming is a valid 1 × 1 PNG whose header claims w × h.
func pngClaiming(w, h int) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	p := buf.Bytes()
	binary.BigEndian.PutUint32(p[16:], uint32(w))
	binary.BigEndian.PutUint32(p[20:], uint32(h))
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
)

func huntPhoto(seed uint64) []byte {
	return phototest.JPEG(phototest.Image(64, 48, true, seed), 85)
}

// TestHuntAttachPastLimitSavesNothing: a report holding 9 photos; the
// volunteer chooses 2 more on the report's page. The form is refused (a
// report holds at most 10) and must leave the report as it was, not with
// the first of the two attached.
func TestHuntAttachPastLimitSavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, true)
	rid, err := h.r.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": hamlet1, "category": "ha_tang_do_thi", "description": "Cống"})
	require.NoError(t, err)
	for i := 0; i < schema.MaxPhotos-1; i++ {
		p, err := agent.PreparePhoto("a.jpg", huntPhoto(uint64(100+i)), photo.Limits{})
		require.NoError(t, err)
		_, err = h.r.AttachPhoto(ctx, rid, p, false)
		require.NoError(t, err)
	}
	status, body, _ := h.postFiles("/reports/"+rid.String()+"/photos", map[string]string{},
		map[string][]byte{"x1.jpg": huntPhoto(1), "x2.jpg": huntPhoto(2)})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "tối đa 10 ảnh")
	ps, err := h.r.ReportPhotos(ctx, rid)
	require.NoError(t, err)
	require.Len(t, ps, schema.MaxPhotos-1, "a refused form attaches none of its photos")
}

// TestHuntNewReportTooManyPhotos: 11 photos chosen on the new report form.
// The volunteer is told, in Vietnamese, that a report holds at most 10.
func TestHuntNewReportTooManyPhotos(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, true)
	files := map[string][]byte{}
	for i := 0; i <= schema.MaxPhotos; i++ {
		files[fmt.Sprintf("IMG_%d.jpg", i)] = huntPhoto(uint64(200 + i))
	}
	status, body, _ := h.postFiles("/reports/new", map[string]string{"hamlet_code": hamlet1, "category": "ha_tang_do_thi",
		"description": "Cống bị tắc ở đầu hẻm", "consent_disclose": "no"}, files)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "Cống bị tắc ở đầu hẻm", "the typed form is kept")
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, recs)
	require.Contains(t, stripTags(body), "tối đa 10 ảnh", "said in Vietnamese, next to the photos")
	n, err := os.ReadDir(h.r.PhotoDir())
	if err == nil {
		require.Empty(t, n, "a refused form keeps no photo in the data folder")
	}
}

// TestHuntTransparentPNG: a PNG with a transparent background (a
// screenshot, a scanned notice saved with alpha) with dark writing on it.
// The stored JPEG must still show the writing: the background may not turn
// black.
func TestHuntTransparentPNG(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, true)
	img := image.NewNRGBA(image.Rect(0, 0, 200, 100))
	for y := 40; y < 60; y++ { // a dark stroke of "writing" on nothing
		for x := 20; x < 180; x++ {
			img.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	status, body, _ := h.postFiles("/reports/new", map[string]string{"hamlet_code": hamlet1, "category": "ha_tang_do_thi",
		"description": "Thông báo", "consent_disclose": "no"}, map[string][]byte{"thong_bao.png": phototest.PNG(img)})
	require.Equal(t, http.StatusSeeOther, status, body)
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	ds := schema.PhotoDigests(recs[0].Fields[schema.PhotoDigestsField])
	require.Len(t, ds, 1)
	b, err := os.ReadFile(h.r.PhotoPath(ds[0], false))
	require.NoError(t, err)
	got, err := jpeg.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	bg, _, _, _ := got.At(5, 5).RGBA()
	ink, _, _, _ := got.At(100, 50).RGBA()
	require.Greater(t, int(bg>>8)-int(ink>>8), 100, "the writing stands out from the background (background %d, writing %d)", bg>>8, ink>>8)
}

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCLIPhotos: the volunteer's photo commands, as built binaries on two
// laptops against a real server: a report filed with a phone photo
// (scaled, its GPS offered, not taken unasked), bad files refused with a
// message and nothing saved, the photo sent after the report, the
// teammate's laptop receiving the thumbnail and the full photo on demand.
func TestCLIPhotos(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	a, b := newLaptop(t, t.TempDir()), newLaptop(t, t.TempDir())
	a.enroll(ts)
	b.enroll(ts)
	files := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(files, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	caMau := [2]float64{9.176944, 105.150278}
	phone := write("IMG_0001.jpg", phototest.WithEXIF(phototest.JPEG(phototest.Image(2400, 1800, true, 1), 85), phototest.EXIF(6, &caMau)))
	fake := write("anh_gia.jpg", []byte("đây không phải là ảnh, dù tên tệp là .jpg"))
	bomb := write("bom.png", pngClaiming(30000, 30000))

	r := a.must("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cột đèn gãy", "--photo", phone)
	require.Contains(t, r.stdout, "1200 × 1600", "scaled to 1600 px and turned upright (orientation 6)")
	require.Contains(t, r.stdout, "Ảnh có vị trí GPS (9.17694, 105.15028)")
	var recs []struct {
		ID     string
		Fields map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(a.must("report", "list", "--json").stdout), &recs))
	require.Len(t, recs, 1)
	id := recs[0].ID
	require.Nil(t, recs[0].Fields["lat"], "the position waits for the volunteer's yes")

	for _, c := range []struct{ file, says string }{
		{fake, "không phải ảnh JPEG, PNG hay WebP"},
		{bomb, "30000 × 30000 điểm ảnh là quá lớn"},
	} {
		r = a.run("report", "attach", id, c.file)
		require.NotEqual(t, 0, r.code)
		require.Contains(t, r.stderr, c.says)
		r = a.run("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Không lưu", "--photo", c.file)
		require.NotEqual(t, 0, r.code)
	}
	require.NoError(t, json.Unmarshal([]byte(a.must("report", "list", "--json").stdout), &recs))
	require.Len(t, recs, 1, "a refused photo saves no report")

	r = a.must("report", "attach", id, phone, "--use-photo-location")
	require.Contains(t, r.stdout, "Phản ánh đã có ảnh này")
	require.Contains(t, r.stdout, "Đã lấy vị trí GPS trong ảnh")
	var photos []struct {
		Digest         string
		Full, Uploaded bool
	}
	require.NoError(t, json.Unmarshal([]byte(a.must("report", "photos", id, "--json").stdout), &photos))
	require.Len(t, photos, 1)
	require.True(t, photos[0].Full)
	require.False(t, photos[0].Uploaded)

	r = a.must("sync")
	require.Contains(t, r.stdout, "Ảnh: gửi 1")
	require.NoError(t, json.Unmarshal([]byte(a.must("report", "photos", id, "--json").stdout), &photos))
	require.True(t, photos[0].Uploaded)

	r = b.must("sync")
	require.Contains(t, r.stdout, "nhận 1 ảnh thu nhỏ")
	require.NoError(t, json.Unmarshal([]byte(b.must("report", "photos", id, "--json").stdout), &photos))
	require.False(t, photos[0].Full, "the full photo is fetched when opened")
	out := filepath.Join(files, "mo.jpg")
	b.must("report", "photo", photos[0].Digest[:10], "--out", out)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(a.dir, "photos", photos[0].Digest+".jpg"))
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.NoError(t, json.Unmarshal([]byte(b.must("report", "list", "--json").stdout), &recs))
	require.InDelta(t, caMau[0], recs[0].Fields["lat"], 1e-5, "the place the volunteer agreed to reached the teammate")
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

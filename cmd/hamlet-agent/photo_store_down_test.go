package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCLIPhotoServerCannotStore: the server's photo store cannot be
// written (disk full, a folder it may not write). The volunteer's sync
// says why the photo waits, in Vietnamese, and blames the server, not
// the volunteer's link; once the store is back the photo goes.
func TestCLIPhotoServerCannotStore(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	a := newLaptop(t, t.TempDir())
	a.enroll(ts)
	img := filepath.Join(t.TempDir(), "IMG_0002.jpg")
	require.NoError(t, os.WriteFile(img, phototest.JPEG(phototest.Image(1600, 1200, true, 5), 85), 0o600))
	a.must("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cống tắc", "--photo", img)

	blocked := filepath.Join(ts.DataDir, "blobs")
	require.NoError(t, os.WriteFile(blocked, []byte("x"), 0o600)) // the store cannot make its folder
	r := a.must("sync")
	t.Logf("stderr: %s", r.stderr)
	require.Contains(t, r.stderr, "Còn 1 ảnh chưa gửi")
	require.NotContains(t, r.stderr, "the link kept failing", "the link is fine: the server cannot store")
	require.Contains(t, r.stderr, "Máy chủ tạm thời không lưu được dữ liệu", "the server's own reason, in Vietnamese")

	require.NoError(t, os.Remove(blocked))
	r = a.must("sync")
	require.Contains(t, r.stdout, "Ảnh: gửi 1")
}

// TestCLIPhotoServerCannotStoreSendsOnce: with several photos waiting and
// a server that cannot store them, a sync does not put every photo on the
// link again and again (four tries each, on a volunteer's paid 3G): the
// first refusal says the server is not storing now, and the rest wait for
// the next sync untouched.
func TestCLIPhotoServerCannotStoreSendsOnce(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	a := newLaptop(t, t.TempDir())
	a.enroll(ts)
	var size int64
	for i := range 3 {
		img := filepath.Join(t.TempDir(), "IMG.jpg")
		require.NoError(t, os.WriteFile(img, phototest.JPEG(phototest.Image(1600, 1200, true, uint64(10+i)), 85), 0o600))
		fi, err := os.Stat(img)
		require.NoError(t, err)
		size = max(size, fi.Size())
		a.must("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cống tắc", "--photo", img)
	}
	blocked := filepath.Join(ts.DataDir, "blobs")
	require.NoError(t, os.WriteFile(blocked, []byte("x"), 0o600))
	r := a.must("sync", "--json") // the reports go; their photos cannot
	var out struct {
		Photos *struct {
			Sent    int64  `json:"sent"`
			Wire    int64  `json:"wire"`
			Pending int    `json:"pending"`
			Err     string `json:"error"`
		} `json:"photos"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.NotNil(t, out.Photos, r.stdout)
	require.Equal(t, 3, out.Photos.Pending)
	require.LessOrEqual(t, out.Photos.Wire, 2*size, "at most one photo's bytes go out while the server cannot store: %s", r.stdout)
	require.Contains(t, out.Photos.Err, "unavailable", "the server's reason")

	require.NoError(t, os.Remove(blocked))
	r = a.must("sync")
	require.Contains(t, r.stdout, "Ảnh: gửi 3")
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCLIHuntTooManyPhotos: `report add` with 11 --photo files is refused
// with the photo message in Vietnamese (a report holds at most 10), and
// keeps none of the photos in the data folder.
func TestCLIHuntTooManyPhotos(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	dir := t.TempDir()
	a := newLaptop(t, dir)
	a.enroll(ts)
	files := t.TempDir()
	args := []string{"report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cống"}
	for i := 0; i <= 10; i++ {
		p := filepath.Join(files, fmt.Sprintf("IMG_%d.jpg", i))
		require.NoError(t, os.WriteFile(p, phototest.JPEG(phototest.Image(64, 48, true, uint64(300+i)), 85), 0o600))
		args = append(args, "--photo", p)
	}
	r := a.run(args...)
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "tối đa 10 ảnh")
	ents, _ := os.ReadDir(filepath.Join(dir, "photos"))
	require.Empty(t, ents, "no photo kept for a report never saved")
}

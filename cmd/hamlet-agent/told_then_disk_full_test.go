package main

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestBackfillToldBySyncThatFailsAfterIsToldAgain (helper 199): a
// back-fill that ended in a sync cut afterwards (agent_meta
// backfill_untold) is told by the next sync that ends well. A sync whose
// session read it and then failed on the laptop's own disk (a teammate's
// photo thumbnail, after the records, on a full disk) printed only the
// error, yet forgot the note: the volunteer never read which hamlet the
// laptop had gained.
func TestBackfillToldBySyncThatFailsAfterIsToldAgain(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	a, b := newLaptop(t, t.TempDir()), newLaptop(t, t.TempDir())
	a.enroll(ts)
	b.enroll(ts)
	b.must("sync")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('backfill_untold', ?)`,
		`{"hamlets":["`+ts.OtherHamletA+`"],"total":20000}`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	// A teammate's report with a photo: b's next sync fetches its
	// thumbnail, after the records' session.
	img := filepath.Join(t.TempDir(), "IMG_0001.jpg")
	require.NoError(t, os.WriteFile(img, phototest.JPEG(phototest.Image(1200, 900, true, 1), 85), 0o600))
	a.must("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cột đèn gãy", "--photo", img)
	a.must("sync")

	// b's photo folder is full (a disk of its own, filled).
	photos := filepath.Join(b.dir, "photos")
	require.NoError(t, os.MkdirAll(photos, 0o700))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", photos).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small filesystem: mount -t tmpfs failed (%v: %s); run as root to test it", err, out)
	}
	mounted := true
	unmount := func() {
		if mounted {
			mounted = false
			require.NoError(t, exec.Command("umount", "-l", photos).Run())
		}
	}
	t.Cleanup(unmount)
	fill(t, photos)

	r := b.run("sync")
	t.Logf("sync on a full disk: code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code, "the thumbnail could not be kept")
	require.Contains(t, r.stderr, "Ổ đĩa của máy đã đầy")
	told := r.stdout

	unmount()
	r = b.must("sync")
	t.Logf("sync after space was freed:\nstdout:\n%s", r.stdout)
	told += r.stdout
	require.Contains(t, told, ts.OtherHamletA, "the hamlet gained is told by a sync the volunteer reads")
	require.NotContains(t, b.must("sync").stdout, ts.OtherHamletA, "told once")
}

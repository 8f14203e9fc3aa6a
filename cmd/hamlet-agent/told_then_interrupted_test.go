package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestBackfillToldBySyncInterruptedDuringPhotosIsToldOnce: a sync tells a
// back-fill an earlier sync left untold (agent_meta backfill_untold), then
// uploads the volunteer's photo over a slow link; the volunteer presses
// Ctrl+C during the upload. The sync prints its summary, the hamlet
// gained with it; the next sync must not tell it again. The note was
// forgotten by recordSync on the interrupted context, a write that never
// began: it stayed, and every sync after told the hamlet again until one
// ended without a Ctrl+C.
func TestBackfillToldBySyncInterruptedDuringPhotosIsToldOnce(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t)
	link := linktest.New(t, ts.URL[len("http://"):], 100<<10, 20*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('backfill_untold', ?)`,
		`{"hamlets":["`+ts.OtherHamletA+`"],"total":20000}`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	img := filepath.Join(t.TempDir(), "IMG_0001.jpg")
	require.NoError(t, os.WriteFile(img, phototest.JPEG(phototest.Image(2400, 1800, true, 1), 92), 0o600))
	l.must("report", "add", "--hamlet", ts.HamletsA[0], "--category", "ha_tang_do_thi", "--description", "Cột đèn gãy", "--photo", img)

	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := l.command(ctx, "sync")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	up := link.Up()
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for link.Up()-up < 60<<10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.Greater(t, link.Up()-up, int64(60<<10), "the photo is on its way")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	_ = cmd.Wait()
	t.Logf("sync interrupted during the photo: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.ProcessState.ExitCode(), out.String(), errb.String())
	told := out.String()

	r := l.run("sync")
	t.Logf("next sync: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	told += r.stdout
	require.Equal(t, 1, strings.Count(told, ts.OtherHamletA), "the hamlet gained is told once:\n%s", told)
}

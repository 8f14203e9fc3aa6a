package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWALCheckAnotherProcessBetweenItsReads (helper 190): the -wal check
// of a command reads the count the file holds alone, then the count
// through the -wal. A healthy folder whose -wal holds frames (the app
// was killed) sees two more commands meanwhile: the first ends, the last
// to close, so SQLite copies the -wal into replica.db and removes it;
// the next one writes into a new -wal and notes its base, the file's
// count then. The check read the file before both, and compared that
// count with the new -wal's base: a healthy laptop was told its file
// does not belong with its -wal, marked damaged, and every command
// stopped until a repair.
//
// The moment between the two reads is a few system calls; strace
// stretches it (a delay on the command's second open of replica.db),
// as a busy laptop does by chance.
func TestWALCheckAnotherProcessBetweenItsReads(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil || runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs strace on linux/amd64 (SQLite opens files with open(2) there)")
	}
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	l.mustAdd(ts.HamletsA[0], "Hộ Một")
	file := filepath.Join(l.dir, "replica.db")

	// The app has the file open while a household is saved, and is
	// killed: the -wal keeps its frames, nobody has the file open.
	app := startApp(t, l)
	l.mustAdd(ts.HamletsA[0], "Hộ Hai")
	app.kill()
	fi, err := os.Stat(file + "-wal")
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(32), "the -wal holds frames")

	// status: its second open of replica.db (the check's second read)
	// waits 3 s.
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	args := append([]string{"-f", "-qq", "-o", "/dev/null", "-P", file, "-e", "trace=open", "-e", "inject=open:delay_enter=3000000:when=2",
		l.bin, "status"}, "--data-dir", l.dir)
	cmd := exec.CommandContext(ctx, strace, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_LANG=", "HAMLET_AGENT_DIR=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	time.Sleep(time.Second)
	l.mustAdd(ts.HamletsA[0], "Hộ Ba")  // the last to close: the -wal is copied in and removed
	l.mustAdd(ts.HamletsA[1], "Hộ Bốn") // a new -wal, its base the file's count now
	err = cmd.Wait()
	t.Logf("status during the two commands: %v\n%s%s", err, out.String(), errb.String())
	require.NoError(t, err, "status on a healthy folder:\n%s", errb.String())
	_, err = os.Stat(file + ".damaged")
	require.ErrorIs(t, err, os.ErrNotExist, "a healthy replica is not marked damaged")
	r := l.must("household", "add", "--hamlet", ts.HamletsA[0], "--head", "Hộ Năm")
	require.NotContains(t, r.stderr, "repair")
	require.Len(t, l.households(), 5)
}

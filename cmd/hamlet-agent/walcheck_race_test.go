package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

	// The two commands must run while status waits at its second open:
	// they start once strace shows it entered that open, and the attempt
	// counts only if status was still held there when they had both
	// ended. A loaded machine, slow to start status or the commands, let
	// this test pass before without the check ever seeing them; an
	// attempt that missed the moment is made again, with a longer hold.
	n := 1
	for i, hold := range []time.Duration{10 * time.Second, 30 * time.Second, 60 * time.Second} {
		if walcheckRaceAttempt(t, ts, l, strace, file, hold, &n) {
			require.Len(t, l.households(), n)
			return
		}
		t.Logf("attempt %d: status left its second open before the two commands ended; again", i+1)
	}
	t.Fatal("no attempt had the two commands run while status waited between its reads")
}

// walcheckRaceAttempt leaves replica.db with a -wal that holds frames and
// no process on it (the app killed), runs status with its second open of
// the file held for hold, and the two commands meanwhile; it checks
// status and the folder, and says whether the commands ran within the
// hold. n counts the households added.
func walcheckRaceAttempt(t *testing.T, ts *servertest.TS, l *laptop, strace, file string, hold time.Duration, n *int) bool {
	t.Helper()
	// The app has the file open while a household is saved, and is
	// killed: the -wal keeps its frames, nobody has the file open.
	app := startApp(t, l)
	*n++
	l.mustAdd(ts.HamletsA[0], fmt.Sprintf("Hộ %d", *n))
	app.kill()
	fi, err := os.Stat(file + "-wal")
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(32), "the -wal holds frames")

	// status: its second open of replica.db (the check's second read)
	// waits hold. strace writes a call's entry before the delay and its
	// end, marked (DELAYED), after.
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout+hold)
	defer cancel()
	trace := filepath.Join(t.TempDir(), "strace.out")
	args := append([]string{"-f", "-qq", "-o", trace, "-P", file, "-e", "trace=open",
		"-e", fmt.Sprintf("inject=open:delay_enter=%d:when=2", hold.Microseconds()),
		l.bin, "status"}, "--data-dir", l.dir)
	cmd := exec.CommandContext(ctx, strace, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_LANG=", "HAMLET_AGENT_DIR=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	traced := func() string { b, _ := os.ReadFile(trace); return string(b) }
	require.Eventually(t, func() bool { return strings.Count(traced(), "open(") >= 2 }, 60*time.Second, 10*time.Millisecond,
		"status never reached its second open of replica.db:\n%s", traced())
	*n++
	l.mustAdd(ts.HamletsA[0], fmt.Sprintf("Hộ %d", *n)) // the last to close: the -wal is copied in and removed
	*n++
	l.mustAdd(ts.HamletsA[1], fmt.Sprintf("Hộ %d", *n)) // a new -wal, its base the file's count now
	within := !strings.Contains(traced(), "(DELAYED)")
	err = <-done
	t.Logf("status during the two commands (within its hold of %v: %v): %v\n%s%s", hold, within, err, out.String(), errb.String())
	require.NoError(t, err, "status on a healthy folder:\n%s", errb.String())
	_, err = os.Stat(file + ".damaged")
	require.ErrorIs(t, err, os.ErrNotExist, "a healthy replica is not marked damaged")
	*n++
	r := l.must("household", "add", "--hamlet", ts.HamletsA[0], "--head", fmt.Sprintf("Hộ %d", *n))
	require.NotContains(t, r.stderr, "repair")
	return within
}

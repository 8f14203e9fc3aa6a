package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWALCheckIdleSyncFsyncs (helper 194): the fsyncs of an idle sync,
// counted with strace (skipped without it). A write transaction that
// changed nothing commits no page: it neither counts itself nor syncs.
func TestWALCheckIdleSyncFsyncs(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil || os.Getenv("HAMLET_STRACE") == "" {
		t.Skip("set HAMLET_STRACE=1 with strace installed")
	}
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	l.must("sync")
	re := regexp.MustCompile(`(?m)^\d+ +(fsync|fdatasync)\(`)
	for i := range 3 {
		trace := filepath.Join(t.TempDir(), "trace")
		args := ([]string{"-f", "-y", "-o", trace, "-e", "trace=fsync,fdatasync", l.bin, "sync", "--data-dir", l.dir})
		cmd := exec.Command(strace, args...)
		cmd.Env = l.command(t.Context(), "sync").Env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		b, err := os.ReadFile(trace)
		require.NoError(t, err)
		n := len(re.FindAll(b, -1))
		t.Logf("idle sync %d: %d fsyncs\n%s", i, n, b)
	}
}

// TestWALCheckKilledInLargeCheckpoint (helper 194): an import of 20,000
// households killed around its end, while the close copies a large -wal
// into the file (the file alone is then a mix of pages): the next command
// runs the check and must not refuse the replica.
func TestWALCheckKilledInLargeCheckpoint(t *testing.T) {
	t.Parallel()
	if os.Getenv("HAMLET_LARGE") == "" {
		t.Skip("set HAMLET_LARGE=1")
	}
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	file := func(round int) string {
		var list strings.Builder
		list.WriteString("Họ tên chủ hộ,Địa chỉ\n")
		for i := range 20000 {
			fmt.Fprintf(&list, "Hộ lớn %d-%d %s,Tổ %d\n", round, i, strings.Repeat("x", i%50), i%9)
		}
		csv := filepath.Join(t.TempDir(), "ho.csv")
		require.NoError(t, os.WriteFile(csv, []byte(list.String()), 0o600))
		return csv
	}
	start := time.Now()
	r0 := l.must("import", "--hamlet", ts.HamletsA[0], file(99))
	full := time.Since(start)
	t.Logf("a full import took %v: %s", full, r0.stdout)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 194))
	checked := 0
	for i := range 16 {
		cmd := l.command(context.Background(), "import", "--hamlet", ts.HamletsA[i%2], file(i))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		at := time.Duration(float64(full) * (0.9 + 1.6*rng.Float64()))
		killed := false
		select {
		case <-done:
		case <-time.After(at):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed = true
		}
		fi, _ := os.Stat(filepath.Join(l.dir, "replica.db-wal"))
		if fi != nil && fi.Size() > 32 {
			checked++
		}
		t.Logf("round %d: killed %v at %v, -wal %v", i, killed, at, fi != nil && fi.Size() > 32)
		r := l.run("status")
		requireNotDamaged(t, l, fmt.Sprintf("round %d status after an import killed at %v", i, at), r)
	}
	t.Logf("the check ran on %d of 16", checked)
}

// TestWALCheckFolderMovedWhileOpen (helper 194): the data folder moved
// (mv) while the app has it open and writes: a command on the new path
// opens the same files the app holds, and must not refuse them; after the
// app is killed with frames left, neither.
func TestWALCheckFolderMovedWhileOpen(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	base := t.TempDir()
	l := newLaptop(t, filepath.Join(base, "a"))
	l.enroll(ts)
	l.must("sync")
	for round := range 3 {
		app := startApp(t, l)
		l.mustAdd(ts.HamletsA[0], fmt.Sprintf("Hộ trước %d", round))
		moved := &laptop{t: t, bin: l.bin, dir: filepath.Join(base, fmt.Sprintf("b%d", round))}
		require.NoError(t, os.Rename(l.dir, moved.dir))
		r := moved.run("status")
		requireNotDamaged(t, moved, fmt.Sprintf("round %d status on the moved folder, app open", round), r)
		moved.mustAdd(ts.HamletsA[1], fmt.Sprintf("Hộ sau %d", round))
		moved.must("sync")
		app.kill()
		r = moved.run("status")
		requireNotDamaged(t, moved, fmt.Sprintf("round %d status after the app was killed", round), r)
		require.Equal(t, 0, r.code, r.stderr)
		l = moved
	}
	require.Len(t, l.households(), 6)
}

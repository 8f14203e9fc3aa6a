package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderWhileTheAppRuns: a volunteer copies her data folder
// (a backup, or a second folder for a teammate) while the app runs on it,
// then starts Hamlet on the copy on the same laptop. The copy's app.json
// names the running app of the original folder, which still answers: the
// copy must start an app of its own on its own data, not send the browser
// to the original's.
func TestCopiedFolderWhileTheAppRuns(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	root := t.TempDir()
	a := newLaptop(t, filepath.Join(root, "a"))
	a.enroll(ts)
	a.env = append(a.env, "HAMLET_NO_BROWSER=1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(l *laptop) (*syncBuffer, func()) {
		app := l.command(ctx, "app")
		out := &syncBuffer{}
		app.Stdout, app.Stderr = out, out
		require.NoError(t, app.Start())
		done := make(chan error, 1)
		go func() { done <- app.Wait() }()
		return out, func() {
			_ = app.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = app.Process.Kill()
			}
		}
	}
	outA, stopA := start(a)
	defer stopA()
	var ai appInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(a.dir, appFile))
		return err == nil && json.Unmarshal(b, &ai) == nil && ai.URL != ""
	}, 60*time.Second, 20*time.Millisecond, "the app did not start: %s", outA.String())

	b := a.copyTo(filepath.Join(root, "b"))
	b.env = a.env
	outB, stopB := start(b)
	defer stopB()
	require.Eventually(t, func() bool {
		return strings.Contains(outB.String(), "Hamlet")
	}, 60*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	t.Logf("the copy's app says: %s", outB.String())
	require.NotContains(t, outB.String(), "Hamlet đang chạy sẵn", "the copy opened the original folder's app")
}

// TestSameFolderOtherPathOpensTheRunningApp: the app runs on a folder; a
// second start names the same folder another way (through a symlink, or
// relative to the working directory): it is the same folder, and the
// second start opens the running app instead of starting another on it.
func TestSameFolderOtherPathOpensTheRunningApp(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	root := t.TempDir()
	a := newLaptop(t, filepath.Join(root, "a"))
	a.enroll(ts)
	a.env = append(a.env, "HAMLET_NO_BROWSER=1")
	require.NoError(t, os.Symlink(a.dir, filepath.Join(root, "link")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(l *laptop, wd string) (*syncBuffer, func()) {
		app := l.command(ctx, "app")
		app.Dir = wd
		out := &syncBuffer{}
		app.Stdout, app.Stderr = out, out
		require.NoError(t, app.Start())
		done := make(chan error, 1)
		go func() { done <- app.Wait() }()
		return out, func() {
			_ = app.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = app.Process.Kill()
			}
		}
	}
	// Started on a relative path.
	rel := &laptop{t: t, bin: a.bin, dir: "a", env: a.env}
	outA, stopA := start(rel, root)
	defer stopA()
	var ai appInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(a.dir, appFile))
		return err == nil && json.Unmarshal(b, &ai) == nil && ai.URL != ""
	}, 60*time.Second, 20*time.Millisecond, "the app did not start: %s", outA.String())
	require.True(t, filepath.IsAbs(ai.Dir), ai.Dir)
	for _, other := range []struct{ dir, wd string }{
		{filepath.Join(root, "link"), root}, {a.dir, os.TempDir()}, {"./link/", root},
	} {
		l := &laptop{t: t, bin: a.bin, dir: other.dir, env: a.env}
		out, stop := start(l, other.wd)
		require.Eventually(t, func() bool {
			return strings.Contains(out.String(), "Hamlet")
		}, 60*time.Second, 20*time.Millisecond)
		time.Sleep(300 * time.Millisecond)
		stop()
		require.Contains(t, out.String(), "Hamlet đang chạy sẵn", "%s from %s: %s", other.dir, other.wd, out.String())
	}
}

// TestRenamedFolderWhileTheAppRunsOpensIt: the app runs on a folder, and
// the volunteer renames the folder (the app keeps serving it: its files
// are open). Hamlet started on the folder's new name must open the
// running app, not start a second app on the same data.
func TestRenamedFolderWhileTheAppRunsOpensIt(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	root := t.TempDir()
	a := newLaptop(t, filepath.Join(root, "a"))
	a.enroll(ts)
	a.env = append(a.env, "HAMLET_NO_BROWSER=1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(l *laptop) (*syncBuffer, func()) {
		app := l.command(ctx, "app")
		out := &syncBuffer{}
		app.Stdout, app.Stderr = out, out
		require.NoError(t, app.Start())
		done := make(chan error, 1)
		go func() { done <- app.Wait() }()
		return out, func() {
			_ = app.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = app.Process.Kill()
			}
		}
	}
	outA, stopA := start(a)
	defer stopA()
	var ai appInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(a.dir, appFile))
		return err == nil && json.Unmarshal(b, &ai) == nil && ai.URL != ""
	}, 60*time.Second, 20*time.Millisecond, "the app did not start: %s", outA.String())
	moved := &laptop{t: t, bin: a.bin, dir: filepath.Join(root, "renamed"), env: a.env}
	require.NoError(t, os.Rename(a.dir, moved.dir))
	out, stop := start(moved)
	defer stop()
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "Hamlet")
	}, 60*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	require.Contains(t, out.String(), "Hamlet đang chạy sẵn", "a second app on the same data: %s", out.String())
}

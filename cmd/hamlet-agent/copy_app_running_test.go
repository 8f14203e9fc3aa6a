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
	}, 20*time.Second, 20*time.Millisecond, "the app did not start: %s", outA.String())

	b := a.copyTo(filepath.Join(root, "b"))
	b.env = a.env
	outB, stopB := start(b)
	defer stopB()
	require.Eventually(t, func() bool {
		return strings.Contains(outB.String(), "Hamlet")
	}, 20*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	t.Logf("the copy's app says: %s", outB.String())
	require.NotContains(t, outB.String(), "Hamlet đang chạy sẵn", "the copy opened the original folder's app")
}

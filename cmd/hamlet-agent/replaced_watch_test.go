package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// sync --watch left running for hours while the volunteer repairs or
// restores the data file (helper 238): the watch sees the file is no
// longer the one it opened (agent.ReplacedError) and stops, which is
// right, with the one-shot commands' text: "so this command saved
// nothing. Run the command again". Of a watch that sent everything it
// met before, "saved nothing" is false and alarming, and "the command"
// is not the command to type. It now says the file was replaced while it
// watched, that it stopped so as not to write into the old file, that
// what it synced is safe on the server, and to run sync --watch again;
// and it still exits non-zero, for scripts.
//
// Whether the watch meets the new file while idle (its poll) or at its
// next connection (the link was down), it says the same. The file is
// replaced as a restore does, a copy put in its place: a repair marks the
// file damaged first, and a watch that polls in between stops on the
// marker and says to repair (right then), so only a repair that finds the
// damage itself and finishes within one poll (3 s) gets here by the
// repair, which a test cannot time; what the watch meets is the same.
func TestWatchSaysItsFileWasReplaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		lang string
		// offline: the link is down when the file is replaced, so the
		// watch meets the new file at its next sync, not while idle.
		offline          bool
		synced, retrying string
		want, notWant    []string
	}{
		{
			name: "idle", lang: "vi", synced: "Đồng bộ xong: gửi ",
			want:    []string{"Tệp dữ liệu đã được thay", "để không ghi vào tệp cũ", "vẫn an toàn trên máy chủ", "Hãy chạy lại: hamlet-agent sync --watch"},
			notWant: []string{"chưa lưu gì", "Hãy chạy lại lệnh."},
		},
		{
			name: "next sync, offline", lang: "en", offline: true, synced: "Synced: sent ", retrying: "will retry",
			want:    []string{"The data file was replaced", "rather than write into the old file", "safe on the server", "Run it again: hamlet-agent sync --watch"},
			notWant: []string{"saved nothing", "Run the command again."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := servertest.Start(t)
			link := newDroppableLink(t, ts.URL)
			l := newLaptop(t, t.TempDir())
			l.lang = tc.lang
			l.must("enroll", "--server", link.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			l.must("sync")
			backup := copyDataFile(t, l.dir)
			id := l.mustAdd(ts.HamletsA[0], "Hộ gửi trong lúc đồng bộ liên tục")

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang's bound only
			defer cancel()
			cmd := l.command(ctx, "sync", "--watch")
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			says := func(want, what string) {
				t.Helper()
				require.Eventually(t, func() bool { return strings.Contains(out.String(), want) }, 90*time.Second, 50*time.Millisecond, "%s:\n%s", what, &out)
			}
			says(tc.synced, "the watch sends the household and idles")
			if tc.offline {
				link.drop()
				says(tc.retrying, "the watch lost its link and tries again")
			}
			restoreDataFile(t, l.dir, backup)
			select {
			case <-done:
			case <-time.After(90 * time.Second):
				require.FailNow(t, "sync --watch went on with its file replaced", "%s", &out)
			}
			got := out.String()
			t.Logf("sync --watch printed:\n%s", got)
			assert.NotEqual(t, 0, cmd.ProcessState.ExitCode(), "scripts notice the watch stopped")
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, w := range tc.notWant {
				assert.NotContains(t, got, w, "the one-shot commands' text")
			}
			// What it synced is on the server, and run again, a sync
			// brings it back into the restored file.
			require.True(t, serverHouseholds(t, ts)[id], "the household the watch sent is on the server")
			link.up()
			r := l.must("sync")
			t.Logf("sync after the restore:\n%s%s", r.stdout, r.stderr)
			require.True(t, l.households()[id], "the restored file has the household again")
		})
	}
}

// droppableLink stands between the laptop and the server: drop cuts the
// watch's connection and refuses new ones (a proxy's 502) until up.
type droppableLink struct {
	URL   string
	down  atomic.Bool
	mu    sync.Mutex
	conns []net.Conn // hijacked: the WebSocket connections
}

func newDroppableLink(t *testing.T, server string) *droppableLink {
	u, err := url.Parse(server)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	l := &droppableLink{}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	hs.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateHijacked {
			l.mu.Lock()
			l.conns = append(l.conns, c)
			l.mu.Unlock()
		}
	}
	hs.Start()
	t.Cleanup(hs.Close)
	l.URL = hs.URL
	return l
}

func (l *droppableLink) drop() {
	l.down.Store(true)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func (l *droppableLink) up() { l.down.Store(false) }

// copyDataFile copies the data file (and its log, if any) of a laptop no
// command has open: a volunteer's backup.
func copyDataFile(t *testing.T, dir string) string {
	t.Helper()
	backup := filepath.Join(t.TempDir(), "replica.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "replica.db"+suffix))
		if suffix != "" && os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(backup+suffix, b, 0o600))
	}
	return backup
}

// restoreDataFile puts backup in the data file's place while a process
// holds the file open: the file and its log are moved aside, as repair
// moves a damaged one, and the copy renamed in.
func restoreDataFile(t *testing.T, dir, backup string) {
	t.Helper()
	path := filepath.Join(dir, "replica.db")
	for _, suffix := range []string{"", "-wal"} {
		if err := os.Rename(path+suffix, path+".before-restore"+suffix); !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
	if err := os.Remove(path + "-shm"); !os.IsNotExist(err) {
		require.NoError(t, err)
	}
	for _, suffix := range []string{"-wal", ""} { // the file last: no moment with it and another's log
		if err := os.Rename(backup+suffix, path+suffix); !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
}

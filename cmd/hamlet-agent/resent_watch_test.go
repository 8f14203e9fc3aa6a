package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// restoredServer takes a backup of ts while it serves, as `hamlet-server
// backup` does; the function it returns stops ts and starts a server on
// that backup (README: the file becomes hamlet.db).
func restoredServer(t *testing.T, ts *servertest.TS) func() *servertest.TS {
	t.Helper()
	ctx := context.Background()
	bak := filepath.Join(t.TempDir(), "bak.db")
	st, err := servertest.OpenStore(ctx, ts.DataDir, "NORMAL")
	require.NoError(t, err)
	require.NoError(t, st.Backup(ctx, bak))
	require.NoError(t, st.Close())
	return func() *servertest.TS {
		ts.Close()
		dir := t.TempDir()
		in, err := os.Open(bak)
		require.NoError(t, err)
		defer in.Close()
		out, err := os.Create(filepath.Join(dir, sqlitestore.DBFile))
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, out.Close())
		if _, err := os.Stat(sqlitestore.BackupBlobsDir(bak)); err == nil {
			require.NoError(t, os.Rename(sqlitestore.BackupBlobsDir(bak), filepath.Join(dir, "blobs")))
		}
		return servertest.Start(t, servertest.WithDataDir(dir), servertest.WithSynchronous("NORMAL"))
	}
}

// TestWatchTellsChangesResentToARestoredServer: the server is restored from
// a backup older than the laptop's last sync. `sync` says the server had
// lost changes, sent again ("Máy chủ đã mất … Nên báo cán bộ CNTT"), and
// not that the folder is a copy; `sync --watch` must say the same.
func TestWatchTellsChangesResentToARestoredServer(t *testing.T) {
	t.Parallel()
	for _, watch := range []bool{false, true} {
		t.Run(map[bool]string{false: "sync", true: "sync --watch"}[watch], func(t *testing.T) {
			ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
			l := newLaptop(t, t.TempDir())
			l.enroll(ts)
			l.mustAdd(ts.HamletsA[0], "Trước sao lưu")
			l.must("sync")
			restore := restoredServer(t, ts)
			l.mustAdd(ts.HamletsA[0], "Sau sao lưu")
			l.must("sync")
			ts2 := restore()
			var got string
			if !watch {
				r := l.must("sync", "--server", ts2.URL)
				got = r.stdout + r.stderr
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := l.command(ctx, "sync", "--watch", "--server", ts2.URL)
				var out, errOut syncBuffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				require.NoError(t, cmd.Start())
				require.Eventually(t, func() bool { return len(serverHouseholds(t, ts2)) == 2 }, 30*time.Second, 200*time.Millisecond,
					"the household the server lost is sent again")
				time.Sleep(2 * time.Second)
				_ = cmd.Process.Signal(os.Interrupt)
				_ = cmd.Wait()
				got = out.String() + errOut.String()
			}
			t.Logf("output:\n%s", got)
			require.Contains(t, got, "Máy chủ đã mất", "the changes the server lost, sent again, are told")
			require.NotContains(t, got, "Thư mục dữ liệu này là bản sao", "the folder is no copy")
		})
	}
}

// switchProxy forwards to one server, then another (a server restored
// from a backup at the address the laptop enrolled with).
type switchProxy struct {
	mu  sync.Mutex
	to  *url.URL
	srv *httptest.Server
}

func newSwitchProxy(t *testing.T, to string) *switchProxy {
	p := &switchProxy{}
	p.point(t, to)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		to := p.to
		p.mu.Unlock()
		httputil.NewSingleHostReverseProxy(to).ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *switchProxy) point(t *testing.T, to string) {
	u, err := url.Parse(to)
	require.NoError(t, err)
	p.mu.Lock()
	p.to = u
	p.mu.Unlock()
}

// TestAppTellsChangesResentToARestoredServer: the server is restored from
// a backup older than the laptop's last sync while the app is open. The
// app's sync sends the lost changes again; its sync page must say the
// server lost them and to tell IT staff, not that this data folder is a
// copy of another laptop's.
func TestAppTellsChangesResentToARestoredServer(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	p := newSwitchProxy(t, ts.URL)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", p.srv.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.mustAdd(ts.HamletsA[0], "Trước sao lưu")
	l.must("sync")
	restore := restoredServer(t, ts)
	l.mustAdd(ts.HamletsA[0], "Sau sao lưu")
	l.must("sync")
	ts2 := restore()
	p.point(t, ts2.URL)

	a := startApp(t, l)
	require.Eventually(t, func() bool { return len(serverHouseholds(t, ts2)) == 2 }, 30*time.Second, 200*time.Millisecond,
		"the household the server lost is sent again")
	var page string
	require.Eventually(t, func() bool {
		page = a.syncPage()
		return strings.Contains(page, "Tin từ các lần đồng bộ")
	}, 60*time.Second, 100*time.Millisecond, "the sync page has news")
	i := strings.Index(page, `id="notices"`)
	news, _, _ := strings.Cut(page[i:], "</section>")
	t.Logf("the sync page's news:\n%s", news)
	require.Contains(t, news, "Máy chủ đã mất", "the changes the server lost, sent again, are told")
	require.NotContains(t, news, "Thư mục dữ liệu này là bản sao", "the folder is no copy")
	a.stop()
}

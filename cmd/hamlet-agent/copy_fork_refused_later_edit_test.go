package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderLaterEditWinsForkRefusedOnce (helper 217): as
// TestCopiedFolderLaterEditWins, but the copy's first sync, which finds it
// behind and pushes its edit under the old id (refused replica_forked),
// cannot take its new id: POST /v1/fork fails once (a gateway's 503, a
// link lost). The next sync forks, maybe after the volunteer set the
// clock right, as the failed sync's warning asked. The original's edit,
// made later, must still win on every replica.
func TestCopiedFolderLaterEditWinsForkRefusedOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ shift, after string }{
		{"", ""}, {"-8760h", "-8760h"}, {"+8760h", "+8760h"},
		{"-8760h", ""}, {"+8760h", ""}, // set right between the two syncs
	} {
		t.Run("copy's clock "+c.shift+" then "+c.after, func(t *testing.T) {
			t.Parallel() // each waits out the clock bound
			ts := servertest.Start(t)
			u, err := url.Parse(ts.URL)
			require.NoError(t, err)
			proxy := httputil.NewSingleHostReverseProxy(u)
			var refuse atomic.Int32
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/fork" && refuse.Add(-1) >= 0 {
					http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer gw.Close()
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			h := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
			a.must("sync")
			b := a.copyTo(filepath.Join(root, "b"))
			shifted := func(d string) []string {
				if d == "" {
					return nil
				}
				return []string{"HAMLET_CLOCK_SHIFT=" + d, "HAMLET_TEST=1"}
			}
			b.env = shifted(c.shift)
			b.must("household", "edit", h, "--set", "address=ấp Hai, bản sao (trước)")
			time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
			a.must("household", "edit", h, "--set", "address=ấp Hai, bản gốc (sau)")
			a.must("sync")
			refuse.Store(1)
			r := b.run("sync", "--server", gw.URL)
			t.Logf("copy's sync, its fork refused: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			require.Equal(t, int32(0), refuse.Load(), "the fork was asked for")
			b.env = shifted(c.after)
			for _, l := range []*laptop{b, a, b} {
				r := l.run("sync")
				t.Logf("sync of %s: exit %d\n%s%s", filepath.Base(l.dir), r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code)
			}
			fresh := newLaptop(t, filepath.Join(root, "fresh"))
			fresh.enroll(ts)
			fresh.must("sync")
			logIfFailed(t, func() {
				for _, l := range []*laptop{a, b, fresh} {
					t.Logf("%s: conflicts %+v", filepath.Base(l.dir), l.conflicts())
				}
			})
			for _, l := range []*laptop{a, b, fresh} {
				require.Equal(t, "ấp Hai, bản gốc (sau)", l.household(h)["address"], "%s: the later edit wins", filepath.Base(l.dir))
			}
		})
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A server moved to https:// after its laptops enrolled with http://: each
// laptop's every sync failed, told to run "hamlet-agent sync --server
// https://…", which stores nothing. The agent now tries https:// at the
// same host itself: a Hamlet server there, with a certificate the laptop
// trusts, that takes the device's token, is the address from then on, and
// the sync says once that it changed. Through the binary, with the
// certificate trusted as the system's (SSL_CERT_FILE).
func TestSyncServerMovedToHTTPSCarriesOn(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	// nginx's "return 301 https://$host$request_uri", from another port.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tlsSrv.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer redirect.Close()
	ca := trustFile(t, tlsSrv)
	run := func(dir string, trusted bool, args ...string) result {
		if !trusted {
			return runTrusting(t, bin, "", dir, args...)
		}
		return runTrusting(t, bin, ca, dir, args...)
	}
	stored := func(dir string) string { return storedServer(t, dir) }
	moveTo := func(dir, server string) {
		e := &env{dataDir: dir}
		r, err := e.open(context.Background())
		require.NoError(t, err)
		defer r.Close()
		en, err := r.Enrollment(context.Background())
		require.NoError(t, err)
		en.Server = server
		require.NoError(t, r.SetEnrollment(context.Background(), en))
	}
	httpOfTLS := "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")

	for _, c := range []struct{ name, old string }{
		{"Go's 400 to http", httpOfTLS},
		{"a redirect to https on the same host", redirect.URL},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			require.Equal(t, 0, r.code, r.stderr)
			moveTo(dir, c.old)

			// A certificate the laptop does not trust: nothing stored, and
			// the volunteer is told what IT staff must do, not a command.
			r = run(dir, false, "sync")
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, tlsSrv.URL, r.stderr)
			require.Contains(t, r.stderr, "cán bộ CNTT", r.stderr)
			require.NotContains(t, r.stderr, "sync --server", r.stderr)
			require.Equal(t, c.old, stored(dir), "an address whose certificate failed is stored")

			r = run(dir, true, "sync")
			require.Equal(t, 0, r.code, r.stderr)
			require.Contains(t, r.stdout+r.stderr, "Đồng bộ xong", r.stdout)
			require.Contains(t, r.stdout+r.stderr, "địa chỉ máy chủ nay là "+tlsSrv.URL, r.stdout+r.stderr)
			require.Equal(t, tlsSrv.URL, stored(dir))

			r = run(dir, true, "sync", "--lang", "en")
			require.Equal(t, 0, r.code, r.stderr)
			require.NotContains(t, r.stdout+r.stderr, "https://", "told once: "+r.stdout+r.stderr)

			// sync --watch moves too, and goes on there.
			moveTo(dir, c.old)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang's bound only
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "sync", "--watch", "--data-dir", dir)
			cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
			out, ended := watchUntil(t, cmd, cancel, "địa chỉ máy chủ nay là "+tlsSrv.URL)
			require.Contains(t, out, "địa chỉ máy chủ nay là "+tlsSrv.URL, out)
			require.False(t, ended, "the watch stopped: %s", out)
			require.NotContains(t, out, "Mất kết nối", out)
			require.Equal(t, tlsSrv.URL, stored(dir))
		})
	}
}

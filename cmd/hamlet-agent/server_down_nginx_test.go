package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 170 of c6fb989: the Hamlet server restarting behind nginx (an
// upgrade, a reboot) makes nginx answer its own HTML 502 page for a few
// seconds. The volunteer is told "is not a Hamlet server, check the
// address" (it is, and the address is right), and sync --watch (as the
// app) stops for good instead of trying again once the server is back.
func TestServerDownBehindNginx(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var down atomic.Bool
	down.Store(true)
	nginx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Server", "nginx/1.24.0")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer nginx.Close()
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", nginx.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	t.Logf("enroll while down: %s", r.stderr)
	assert.NotContains(t, r.stderr, "không phải máy chủ Hamlet", "the server is down, the address right: %s", r.stderr)
	down.Store(false)
	r = cli(t, dir, "enroll", "--server", nginx.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	down.Store(true)
	r = cli(t, dir, "sync")
	t.Logf("sync while down: %s", r.stderr)
	assert.NotContains(t, r.stderr, "không phải máy chủ Hamlet", "the server is down, the address right: %s", r.stderr)

	require.Contains(t, r.stderr, "tạm thời chưa trả lời", r.stderr)
	require.NotEqual(t, 0, r.code)

	// sync --watch, the binary: it says the server is not answering and
	// that it tries again by itself, goes on, and sends the household
	// written meanwhile once the server is back.
	addHH(t, dir, "Nguyễn Văn Chờ")
	// A bound on a hang only: the waits below end as soon as it speaks.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBinary(t), "sync", "--watch", "--data-dir", dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Hamlet sẽ tự thử lại") }, 60*time.Second, 50*time.Millisecond, "%s", &out)
	down.Store(false) // back
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Đồng bộ xong: gửi ") }, 60*time.Second, 50*time.Millisecond, "%s", &out)
	select {
	case err := <-done:
		t.Fatalf("sync --watch stopped (%v) while the server was restarting: %s", err, &out)
	default:
	}
	require.NotContains(t, out.String(), "không phải máy chủ Hamlet", out.String())
	cancel()
	<-done
}

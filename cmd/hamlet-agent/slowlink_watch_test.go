package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// `sync --watch` over a link that drops every connection after 20 KB: each
// connection stores a part of the clone (ce0cb64's smaller chunks), and
// watch goes on by itself. Helper 171's review: each line told the
// volunteer to sync again herself, which may make her stop it; and the
// wait between connections doubled after every drop (1, 2, 4, 8 s … up to
// 5 minutes) though every connection made progress, so a commune's clone
// spent hours waiting. A session that stored something now starts the
// next one after the shortest wait.
func TestSlowLinkWatchGoesOnByItself(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 3000)
	link := linktest.New(t, ts.URL[len("http://"):], 200<<10, 20*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }

	// With the wait doubling, 3,000 households at about 250 a connection
	// need some 15 connections and over an hour of waits; with it reset
	// after progress, about 15 s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := l.command(ctx, "sync", "--watch")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := func() bool { return strings.Contains(out.String(), "3.000 hộ") }
	for !done() && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	_ = cmd.Wait()
	require.True(t, done(), "the clone finished in watch mode (%d connections)\nstdout:\n%s\nstderr:\n%s", link.Conns(), &out, &errOut)
	lines := 0
	for _, ln := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(ln, "Mất kết nối, sẽ thử lại") {
			lines++
			require.NotContains(t, ln, "hãy đồng bộ lại", "watch syncs again by itself: %s", ln)
			require.Contains(t, ln, "tự đồng bộ lại", ln)
		}
	}
	require.NotZero(t, lines, "the drops were told:\n%s", &errOut)
}

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
)

// A wrong or unreachable database URL, for serve as for every other
// command: one line saying what to fix, in the
// operator's language (Vietnamese unless --lang en), and a non-zero exit.
func TestServeBadDatabaseURL(t *testing.T) {
	const unreachable = "postgres://hamlet@127.0.0.1:1/hamlet?sslmode=disable&connect_timeout=5"
	for _, tc := range []struct{ lang, url, want string }{
		{"en", unreachable, "cannot connect to PostgreSQL at 127.0.0.1:1/hamlet"},
		{"en", "mysql://root@localhost/hamlet", "give a PostgreSQL URL"},
		{"en", "postgres://[::1", "PostgreSQL URL is not valid"},
		{"vi", unreachable, "không kết nối được PostgreSQL tại 127.0.0.1:1/hamlet (người dùng hamlet)"},
		{"vi", unreachable, "và PostgreSQL có đang chạy không"},
		{"vi", "mysql://root@localhost/hamlet", "cần một URL PostgreSQL"},
		{"vi", "postgres://[::1", "URL PostgreSQL không hợp lệ"},
	} {
		// serve, and any operator command: they choose the store in one place.
		for _, cmd := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"device", "revoke", "--device", "d"}, {"status"}} {
			code, _, stderr := cli(t, t.TempDir(), append(cmd, "--lang", tc.lang, "--db", tc.url)...)
			require.NotZero(t, code, tc.url)
			require.Contains(t, stderr, tc.want, "%v", cmd)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
		}
	}
}

// serve --db on a reachable database listens, then stops with its context.
func TestServePostgres(t *testing.T) {
	url := pgtest.FreshDB(t) // not MigratedDB: a server's first start migrates an empty database
	var out, errOut strings.Builder
	e := &env{stdout: &out, stderr: &errOut, lang: "en"}
	var sf serveFlags
	require.NoError(t, e.serveFlagSet("serve", &sf).Parse([]string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "error", "--db", url}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var addr string
	err := serve(ctx, e, sf, func(a string, s *server.Server) {
		addr = a
		cancel()
	})
	require.NoError(t, err, errOut.String())
	require.True(t, strings.HasPrefix(addr, "http://127.0.0.1:"), addr)
}

package main

import (
	"context"
	"database/sql"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// serveOnce runs `hamlet-server serve` as a process that is expected to
// refuse to start; it fails the test if the server is still running after
// 15 s (it started instead of refusing).
func serveOnce(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve"}, args...)...)
	cmd.Env = processEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "serve started instead of refusing: %s", out)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}

// A store written by a newer release: refused, told in Vietnamese.
func TestServeNewerStoreVietnamese(t *testing.T) {
	bin, _ := binaries(t)
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "status")
	require.Equal(t, 0, code, errOut)
	db, err := sql.Open("sqlite", filepath.Join(dir, "hamlet.db"))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO schema_migrations SELECT set_name, max(version)+1, 'future' FROM schema_migrations WHERE set_name = 'server' GROUP BY set_name`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	code, out := serveOnce(t, bin, "--data-dir", dir, "--addr", "127.0.0.1:0")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "install the newer release", "English in the Vietnamese message: %s", out)
}

// The agent's data directory (replica.db) is no server's: serve refuses it
// rather than start an empty server beside the laptop's replica.
func TestServeRefusesAgentDataDir(t *testing.T) {
	bin, _ := binaries(t)
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "replica.db"))
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE schema_migrations(set_name TEXT, version INTEGER, name TEXT)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	code, out := serveOnce(t, bin, "--data-dir", dir, "--addr", "127.0.0.1:0")
	require.NotEqual(t, 0, code, out)
	_, err = os.Stat(filepath.Join(dir, "hamlet.db"))
	require.True(t, os.IsNotExist(err), "serve made a server store in the agent's data directory: %s", out)
}

// A port already in use: serve refuses, says what to do in Vietnamese, and
// leaves no store behind in a data directory it was the first to use.
func TestServeBusyPortLeavesNoStore(t *testing.T) {
	bin, _ := binaries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	code, out := serveOnce(t, bin, "--data-dir", dir, "--addr", ln.Addr().String())
	require.Equal(t, 1, code, out)
	_, err = os.Stat(filepath.Join(dir, "hamlet.db"))
	require.True(t, os.IsNotExist(err), "a refused start left a new store (a new server id) behind: %s", out)
	require.NotContains(t, out, "address already in use", "the system's English text, not what to do: %s", out)
}

// A second `make run` while the first still runs: it refuses (the port is
// taken) and must change nothing in the demo's store.
func TestDemoSecondRunChangesNothing(t *testing.T) {
	bin, _ := binaries(t)
	dir := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, bin, processEnv(), "--data-dir", dir, "--addr", "127.0.0.1:0", "--province", "none")
	defer d.stop(t)
	codes := func() int {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hamlet.db")+"?mode=ro")
		require.NoError(t, err)
		defer db.Close()
		var n int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM enroll_codes`).Scan(&n))
		return n
	}
	before := codes()
	code, out := runDemoOnce(t, bin, processEnv(), "--data-dir", dir, "--addr", strings.TrimPrefix(d.url, "http://"), "--province", "none")
	require.NotEqual(t, 0, code, out)
	require.Equal(t, before, codes(), "the refused second run issued an enrollment code nobody saw: %s", out)
}

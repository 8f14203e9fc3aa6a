package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
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

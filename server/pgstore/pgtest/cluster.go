package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Cluster is a private PostgreSQL cluster a fault test may restart or stop
// without disturbing the shared one other packages' tests use at the same
// time. It needs the binaries scripts/pg-test.sh exports (HAMLET_TEST_PGBIN,
// HAMLET_TEST_PGUSER); without them it skips, or fails in CI, as URL does.
type Cluster struct {
	URL  string // the "postgres" database, trust auth, user hamlet
	dir  string
	bin  string
	user string
	port int
}

// NewCluster initialises and starts a cluster on a free loopback port;
// it is stopped and deleted when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	URL(t) // skip or fail as every PostgreSQL test does
	bin := os.Getenv("HAMLET_TEST_PGBIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HAMLET_TEST_PGBIN is not set in CI: run the tests with scripts/pg-test.sh")
		}
		t.Skip("HAMLET_TEST_PGBIN is not set: run the tests with scripts/pg-test.sh (it exports it)")
	}
	c := &Cluster{bin: bin, user: os.Getenv("HAMLET_TEST_PGUSER")}
	dir, err := os.MkdirTemp("", "hamlet-pgc.")
	require.NoError(t, err)
	c.dir = dir
	if c.user != "" {
		out, err := exec.Command("chown", c.user, dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	t.Cleanup(func() {
		_ = c.pgCtl("-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	out, err := c.cmd("initdb", "-D", c.data(), "-U", "hamlet", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	require.NoError(t, c.Start())
	c.URL = fmt.Sprintf("postgres://hamlet@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	return c
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.user != "" {
		return exec.Command("runuser", append([]string{"-u", c.user, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) pgCtl(args ...string) error {
	all := append([]string{"-D", c.data(), "-l", filepath.Join(c.dir, "server.log")}, args...)
	if out, err := c.cmd("pg_ctl", all...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %w: %s", args, err, out)
	}
	return nil
}

// Start starts the cluster (again).
func (c *Cluster) Start() error {
	return c.pgCtl("-w", "-t", "30", "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=100", c.port, c.dir), "start")
}

// Stop stops the cluster, ending its sessions (fast shutdown).
func (c *Cluster) Stop() error { return c.pgCtl("-m", "fast", "-w", "stop") }

// Restart stops and starts the cluster: every connection to it breaks.
func (c *Cluster) Restart() error {
	if err := c.Stop(); err != nil {
		return err
	}
	return c.Start()
}

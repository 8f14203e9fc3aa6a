package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

func TestWithPool(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"postgres://u@h:5432/d", 0, "postgres://u@h:5432/d"},
		{"postgres://u@h:5432/d", 16, "postgres://u@h:5432/d?pool_max_conns=16"},
		{"postgres://u@h:5432/d?sslmode=disable", 8, "postgres://u@h:5432/d?pool_max_conns=8&sslmode=disable"},
		{"postgres://u@h:5432/d?pool_max_conns=4", 8, "postgres://u@h:5432/d?pool_max_conns=8"},
	} {
		require.Equal(t, tc.want, withPool(tc.in, tc.n), "%s with %d", tc.in, tc.n)
	}
}

func TestSizeScale(t *testing.T) {
	for _, name := range []string{"small", "seed2023", "tenth", "province"} {
		_, err := sizeScale(name)
		require.NoError(t, err, name)
	}
	tenth, err := sizeScale("tenth")
	require.NoError(t, err)
	full := camau.Province()
	require.Equal(t, full.HouseholdsPerHamlet/10, tenth.HouseholdsPerHamlet)
	require.Equal(t, full.TutoringPerReached, tenth.TutoringPerReached, "the same profile per household")
	_, err = sizeScale("country")
	require.ErrorContains(t, err, "--scale")
}

// serverBuild is the hamlet-server binary the tests run, built once per
// run of the package (each test built its own: a link of the whole server
// apiece), and removed by TestMain.
var serverBuild struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// serverBinary builds hamlet-server, once, and returns its path. Not
// under a test's deadline: on a loaded machine the build alone took
// longer than the 2 minutes TestPinnedServerRunsOnItsCPUs gave it whole.
func serverBinary(t *testing.T) string {
	t.Helper()
	serverBuild.once.Do(func() {
		if serverBuild.dir, serverBuild.err = os.MkdirTemp("", "hamlet-load-bin-"); serverBuild.err != nil {
			return
		}
		serverBuild.out, serverBuild.err = exec.Command("go", "build", "-o", filepath.Join(serverBuild.dir, "hamlet-server"), "github.com/hamlet-vn/hamlet/cmd/hamlet-server").CombinedOutput()
	})
	require.NoError(t, serverBuild.err, "build hamlet-server: %s", serverBuild.out)
	return filepath.Join(serverBuild.dir, "hamlet-server")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serverBuild.dir != "" {
		os.RemoveAll(serverBuild.dir)
	}
	os.Exit(code)
}

// Two server processes on one PostgreSQL database: every agent converges,
// teammates sit on different processes so changes cross them, and the
// database holds each pushed household once.
func TestTwoProcessesOnePostgres(t *testing.T) {
	base := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := serverBinary(t)

	const agents, teamSize, changes = 24, 4, 10
	cfg := loadConfig{agents: agents, teamSize: teamSize, changes: changes, bin: bin, db: base, notifyWait: 10 * time.Second}
	res, err := runOnce(ctx, cfg, 2)
	require.NoError(t, err)
	require.True(t, res.converged)
	require.Equal(t, int64(agents*changes/5), res.dbRows, "households in the database")
	require.Equal(t, res.wantDBRows, res.dbRows)
	// Round-robin over 2 processes puts 2 of each agent's 3 teammates on the other process.
	require.Equal(t, agents*2*changes, res.crossed, "changes delivered across processes")
}

// The size measurement counts what the loader put in: the households, and
// one log entry per applied change, with bytes for every table it counts.
func TestSizesCountTheLoadedProvince(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	check := func(t *testing.T, sizes map[string]tableSize, res *loader.Result) {
		require.Equal(t, int64(res.Counts.Households), sizes["households"].rows)
		require.Equal(t, int64(res.Changes), sizes["sync_log"].rows)
		for _, tbl := range []string{"households", "sync_log", "sync_rows", "tutoring_records"} {
			require.Positive(t, sizes[tbl].bytes, tbl)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		srv, err := servertest.Open(ctx, dir, "NORMAL", server.Config{Logger: quiet, GCInterval: -1})
		require.NoError(t, err)
		res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{})
		require.NoError(t, err)
		require.NoError(t, srv.Close())
		sizes, err := sqliteSizes(ctx, filepath.Join(dir, sqlitestore.DBFile))
		require.NoError(t, err)
		check(t, sizes, res)
		// Tables and their indexes are nearly the whole file (the rest:
		// the schema's pages and free pages).
		var sum int64
		for _, ts := range sizes {
			sum += ts.bytes
		}
		fi, err := os.Stat(filepath.Join(dir, sqlitestore.DBFile))
		require.NoError(t, err)
		require.LessOrEqual(t, sum, fi.Size())
		require.Greater(t, sum, fi.Size()*9/10, "the tables' bytes are most of the file")
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.FreshDB(t)
		srv, err := openPostgres(ctx, url)
		require.NoError(t, err)
		res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{})
		require.NoError(t, err)
		require.NoError(t, srv.Close())
		sizes, err := postgresSizes(ctx, url)
		require.NoError(t, err)
		check(t, sizes, res)
	})
}

func TestParsePin(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset (util-linux) is not installed")
	}
	for _, tc := range []struct {
		in           string
		load, server string
		err          string
	}{
		{in: ""},
		{in: "0:1", load: "0", server: "1"},
		{in: "0,2:1-3", load: "0,2", server: "1-3"},
		{in: "0", err: "LOAD:SERVER"},
		{in: "a:1", err: "LOAD:SERVER"},
		{in: "0:3-1", err: "LOAD:SERVER"},
		{in: ":1", err: "LOAD:SERVER"},
	} {
		p, err := parsePin(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		if tc.in == "" {
			require.Nil(t, p)
			continue
		}
		require.Equal(t, tc.load, p.load, tc.in)
		require.Equal(t, tc.server, p.server, tc.in)
	}
}

// A pinned server runs on the CPUs it was given, and /proc gives its CPU
// time: what the report's CPU per agent sync is made of.
func TestPinnedServerRunsOnItsCPUs(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("pinning needs two CPUs")
	}
	pin, err := parsePin("0:1")
	if err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := serverBinary(t)
	srv, url, err := startServer(ctx, pin, bin, []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"})
	require.NoError(t, err)
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	require.NotEmpty(t, url)
	require.Equal(t, "1", cpusAllowed(srv.Process.Pid), "the server's CPU list")
	cpu, err := cpuSeconds(srv.Process.Pid)
	require.NoError(t, err)
	require.Greater(t, cpu, 0.0, "a server that opened its store has used CPU")
}

// A run on embedded SQLite converges and holds the server against the
// bare SQLite cost of the same rows, whose reads must find exactly what
// the sync delivered.
func TestSQLiteRunWithBareYardstick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := serverBinary(t)
	cfg := loadConfig{agents: 12, teamSize: 4, changes: 10, bin: bin, notifyWait: 10 * time.Second}
	res, err := runOnce(ctx, cfg, 1)
	require.NoError(t, err)
	require.True(t, res.converged)
	require.Positive(t, res.bareCPUPerSync, "the bare workload ran")
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplate() // the one pgtest.MigratedDB copies
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds hamlet-server and hamlet-agent once per test run: the
// demo is run as `make run` runs it, a process, and a laptop enrolls with
// the real agent.
func binaries(t *testing.T) (serverBin, agentBin string) {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "hamlet-demo-bin.")
		if binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator),
			"github.com/hamlet-vn/hamlet/cmd/hamlet-server", "github.com/hamlet-vn/hamlet/cmd/hamlet-agent").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, binErr)
	return filepath.Join(binDir, "hamlet-server"), filepath.Join(binDir, "hamlet-agent")
}

// processEnv is this test's environment for a child, without the HAMLET_*
// variables a developer may have set, plus extra.
func processEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HAMLET_") || strings.HasPrefix(kv, "HAMLET_TEST_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

type demoProcess struct {
	cmd        *exec.Cmd
	url, code  string
	password   string
	lines      []string
	exited     chan error
	stderrFile string
}

var (
	demoServerRE   = regexp.MustCompile(`Máy chủ:\s+(http://\S+)`)
	demoCodeRE     = regexp.MustCompile(`Mã đăng ký: ([A-Z2-9]{4}-[A-Z2-9]{4})`)
	demoPasswordRE = regexp.MustCompile(`mật khẩu: (\S+)`)
)

// startDemo runs `hamlet-server demo` until it prints its banner, or fails
// the test with what it printed if it exits first.
func startDemo(t *testing.T, bin string, env []string, args ...string) *demoProcess {
	t.Helper()
	d := &demoProcess{exited: make(chan error, 1), stderrFile: filepath.Join(t.TempDir(), "stderr")}
	d.cmd = exec.Command(bin, append([]string{"demo"}, args...)...)
	d.cmd.Env = env
	stdout, err := d.cmd.StdoutPipe()
	require.NoError(t, err)
	ef, err := os.Create(d.stderrFile)
	require.NoError(t, err)
	defer ef.Close()
	d.cmd.Stderr = ef
	require.NoError(t, d.cmd.Start())
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			d.lines = append(d.lines, sc.Text())
			if strings.Contains(sc.Text(), "Nhấn Ctrl+C") && !signalled {
				signalled = true
				close(ready)
			}
		}
		if !signalled {
			close(ready)
		}
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	select {
	case <-ready:
	case <-time.After(3 * time.Minute): // a bound on a hung demo, not a speed check
		t.Fatalf("the demo printed no banner: %s", d.output())
	}
	out := strings.Join(d.lines, "\n")
	m := demoServerRE.FindStringSubmatch(out)
	require.NotNil(t, m, "the demo exited or printed no address: %s", d.output())
	d.url = m[1]
	m = demoCodeRE.FindStringSubmatch(out)
	require.NotNil(t, m, "no enrollment code in: %s", out)
	d.code = m[1]
	if m = demoPasswordRE.FindStringSubmatch(out); m != nil {
		d.password = m[1]
	}
	return d
}

func (d *demoProcess) output() string {
	b, _ := os.ReadFile(d.stderrFile)
	return strings.Join(d.lines, "\n") + "\n" + string(b)
}

// stop interrupts the demo as Ctrl+C does; it must stop cleanly.
func (d *demoProcess) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(os.Interrupt))
	require.NoError(t, <-d.exited, d.output())
}

// runDemoOnce runs the demo to completion (a refusal) and returns its exit
// code and output.
func runDemoOnce(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	// A bound on a demo that serves instead of refusing, not a speed check.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"demo"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "the demo did not refuse: %s", out)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}

func agentRun(t *testing.T, bin, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", dir)...)
	cmd.Env = processEnv()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// `make run` twice: the second run keeps the demo's data (the same server,
// the enrolled laptop keeps syncing, the same dashboard password), on SQLite
// and on PostgreSQL (--db and HAMLET_DB), which is where the demo loads and
// serves its data. --reset starts afresh on SQLite, and the laptop is then
// told the server does not know it any more.
func TestDemoBothStores(t *testing.T) {
	serverBin, agentBin := binaries(t)
	for _, kind := range operatorStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			env := processEnv("HAMLET_LOG_LEVEL=error")
			if kind == "postgres HAMLET_DB" {
				env = append(env, "HAMLET_DB="+st.url)
			}
			args := append([]string{"--data-dir", st.dir, "--addr", "127.0.0.1:0"}, st.args...)
			province := "none"
			if kind != "sqlite" {
				// The sample province, its users and their password, into PostgreSQL.
				province = "small"
			}
			d := startDemo(t, serverBin, env, append(args, "--province", province)...)
			laptop := t.TempDir()
			code, out, errOut := agentRun(t, agentBin, laptop, "enroll", "--server", d.url, "--code", d.code)
			require.Equal(t, 0, code, "the demo's code enrolls a laptop with the server it serves: %s%s\n%s", out, errOut, d.output())
			code, _, errOut = agentRun(t, agentBin, laptop, "household", "add", "--hamlet", "32002-01", "--head", "Trần Thị Mai")
			require.Equal(t, 0, code, errOut)
			code, _, errOut = agentRun(t, agentBin, laptop, "sync")
			require.Equal(t, 0, code, errOut)
			d.stop(t)
			if province == "small" {
				require.NotEmpty(t, d.password, d.output())
			}
			status := func() server.Status {
				code, out, errOut := st.cli(t, "status", "--json")
				require.Equal(t, 0, code, errOut)
				var s server.Status
				require.NoError(t, json.Unmarshal([]byte(out), &s))
				return s
			}
			first := status()
			require.Len(t, first.Devices, 1, "the laptop enrolled with the store the demo loaded")

			// Again, as `make run` again: nothing is lost.
			again := startDemo(t, serverBin, env, append(args, "--province", province)...)
			require.Contains(t, again.output(), "giữ dữ liệu thử đã có")
			require.NotEqual(t, d.code, again.code, "a fresh code for another laptop")
			require.Equal(t, d.password, again.password, "the dashboard password still works")
			// (On a port of its own: the test's demos listen on 127.0.0.1:0.)
			code, out, errOut = agentRun(t, agentBin, laptop, "sync", "--server", again.url)
			require.Equal(t, 0, code, "the enrolled laptop still syncs: %s%s", out, errOut)
			again.stop(t)
			second := status()
			require.Equal(t, first.ServerID, second.ServerID)
			require.Len(t, second.Devices, 1)
			st.noSQLiteUnlessSQLite(t)

			if st.url != "" {
				// --reset wipes only what it can: a SQLite demo directory.
				rc, out := runDemoOnce(t, serverBin, env, append(args, "--reset")...)
				require.Equal(t, 1, rc, out)
				require.Contains(t, out, "--reset chỉ xóa được dữ liệu thử SQLite")
				require.Equal(t, first.ServerID, status().ServerID, "nothing was wiped")
				return
			}
			fresh := startDemo(t, serverBin, env, append(args, "--province", province, "--reset")...)
			code, _, errOut = agentRun(t, agentBin, laptop, "sync", "--server", fresh.url)
			fresh.stop(t)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "Máy chủ không còn biết máy này nữa: hãy xin mã đăng ký mới")
			require.NotEqual(t, first.ServerID, status().ServerID)
		})
	}
}

// The demo will not load its sample data into a database that holds other
// data: it is not the demo's to fill.
func TestDemoRefusesOtherData(t *testing.T) {
	serverBin, _ := binaries(t)
	for _, kind := range bothStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			env := processEnv("HAMLET_LOG_LEVEL=error")
			if kind == "postgres HAMLET_DB" {
				env = append(env, "HAMLET_DB="+st.url)
			}
			rc, out := runDemoOnce(t, serverBin, env, append([]string{"--data-dir", st.dir, "--addr", "127.0.0.1:0", "--province", "none"}, st.args...)...)
			require.Equal(t, 1, rc, out)
			require.Contains(t, out, "đã có dữ liệu không phải của bản chạy thử")
			require.Equal(t, 1, strings.Count(strings.TrimSpace(out), "\n")+1, "one line: %q", out)
			code, out, _ := st.cli(t, "team", "list", "--json")
			require.Equal(t, 0, code)
			require.NotContains(t, out, "Tổ CNTS Khóm 1", "nothing was loaded")
		})
	}
}

// The demo prints passwords: it listens on loopback unless told otherwise.
func TestDemoListensOnLoopback(t *testing.T) {
	serverBin, _ := binaries(t)
	cmd := exec.Command(serverBin, "demo", "--help")
	cmd.Env = processEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Regexp(t, `--addr [^\n]*\n[^\n]*\(mặc định: 127\.0\.0\.1:8750\)`, string(out))
}

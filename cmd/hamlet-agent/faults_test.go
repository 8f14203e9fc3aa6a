package main

// Issue 14's faults, driven through the real hamlet-agent binary: built
// once per test run, run as a process against a real server on loopback,
// killed with SIGKILL where the fault needs it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// agentBinary builds hamlet-agent once for the whole test run.
func agentBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real hamlet-agent binary")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "hamlet-agent-bin")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "hamlet-agent")
		cmd := exec.Command("go", "build", "-o", built.bin, "github.com/hamlet-vn/hamlet/cmd/hamlet-agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.bin
}

// laptop is one volunteer's data folder used through the binary.
type laptop struct {
	t   testing.TB
	bin string
	dir string
}

func newLaptop(t testing.TB, dir string) *laptop {
	return &laptop{t: t, bin: agentBinary(t), dir: dir}
}

func (l *laptop) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, l.bin, append(args, "--data-dir", l.dir)...)
	cmd.Env = append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_LANG=")
	return cmd
}

// run runs one command to its end.
func (l *laptop) run(args ...string) result {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := l.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(l.t, ok, "run %v: %v", args, err)
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

// must runs a command that has to succeed.
func (l *laptop) must(args ...string) result {
	l.t.Helper()
	r := l.run(args...)
	require.Equal(l.t, 0, r.code, "%v:\n%s%s", args, r.stdout, r.stderr)
	return r
}

func (l *laptop) enroll(ts *servertest.TS) {
	l.t.Helper()
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(l.t, ts.TeamA))
}

// add records a household; it returns its id, or "" when the command did
// not exit 0 (the volunteer was not told it is saved).
func (l *laptop) add(hamlet, head string) (string, result) {
	l.t.Helper()
	r := l.run("household", "add", "--hamlet", hamlet, "--head", head, "--json")
	if r.code != 0 {
		return "", r
	}
	var rec struct{ ID string }
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
	require.NotEmpty(l.t, rec.ID)
	return rec.ID, r
}

// households lists the ids the laptop holds (household list --json).
func (l *laptop) households() map[string]bool {
	l.t.Helper()
	r := l.must("household", "list", "--deleted", "--json")
	var recs []struct{ ID string }
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &recs), r.stdout)
	out := map[string]bool{}
	for _, rec := range recs {
		out[rec.ID] = true
	}
	return out
}

// rejectedRows are the row ids of the changes the server refused.
func (l *laptop) rejectedRows() map[string]bool {
	l.t.Helper()
	r := l.must("rejected", "--json")
	var rows []struct {
		Row string `json:"row_id"`
	}
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	out := map[string]bool{}
	for _, row := range rows {
		out[row.Row] = true
	}
	return out
}

// pending is status's count of changes not yet sent.
func (l *laptop) pending() int {
	l.t.Helper()
	r := l.must("status", "--json")
	var s struct{ Pending int }
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	return s.Pending
}

// serverHouseholds is every household id the server holds, read by a
// device of team A through the protocol (not through the agent under test).
func serverHouseholds(t testing.TB, ts *servertest.TS) map[string]bool {
	t.Helper()
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	defer c.Close()
	changes, _, _, err := c.PullAll(0)
	require.NoError(t, err)
	out := map[string]bool{}
	for _, ch := range changes {
		if ch.Table == "households" && ch.Field == "head_name" {
			out[ch.Row.String()] = true
		}
	}
	return out
}

// requireOnServer checks every id is on the server.
func requireOnServer(t testing.TB, ts *servertest.TS, ids []string) {
	t.Helper()
	have := serverHouseholds(t, ts)
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	require.Empty(t, missing, "saved records missing on the server")
}

// countErrorPrefix counts "Error:"/"Lỗi:" prefixes in a message.
func countErrorPrefix(s string) int {
	return strings.Count(s, "Error:") + strings.Count(s, "Lỗi:")
}

// Defect 5: with `status` (and `household list`) running in a loop, every
// `household add` must wait for the other process instead of failing with
// "database is locked", and every record it reported saved is there.
func TestFaultTwoCommandsAtOnce(t *testing.T) {
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var reads, readFails int
	var readErr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			read := []string{"status"}
			if i%2 == 1 {
				read = []string{"household", "list"}
			}
			cmd := l.command(context.Background(), read...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Run(); err != nil {
				readFails++
				readErr = errb.String()
			}
			reads++
		}
	}()
	var ids []string
	var failures []string
	for i := 0; i < 100; i++ {
		id, r := l.add(ts.HamletsA[0], fmt.Sprintf("Hộ đồng thời %d", i))
		if id == "" {
			failures = append(failures, strings.TrimSpace(r.stderr+r.stdout))
			continue
		}
		ids = append(ids, id)
	}
	cancel()
	wg.Wait()
	t.Logf("100 adds against %d status and list runs", reads)
	require.Empty(t, failures, "household add failed while status ran")
	require.Zero(t, readFails, "status or list failed while household add ran: %s", readErr)
	have := l.households()
	for _, id := range ids {
		require.True(t, have[id], "saved record %s is on the laptop", id)
	}
	l.must("sync")
	requireOnServer(t, ts, ids)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The tests of issue 14 drive the real hamlet-agent binary, built once per
// test run, as a volunteer's shell would: a process per command, killed
// with SIGKILL where the fault needs it.

var agentBuild struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// sharedAgent builds cmd/hamlet-agent into a temporary directory, once for
// every test that runs the binary.
func sharedAgent(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the hamlet-agent binary")
	}
	agentBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "hamlet-agent-bin-")
		if err != nil {
			agentBuild.err = err
			return
		}
		agentBuild.path = filepath.Join(dir, "hamlet-agent")
		cmd := exec.Command("go", "build", "-o", agentBuild.path, "github.com/hamlet-vn/hamlet/cmd/hamlet-agent")
		agentBuild.out, agentBuild.err = cmd.CombinedOutput()
	})
	require.NoError(t, agentBuild.err, "go build: %s", agentBuild.out)
	return agentBuild.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if agentBuild.path != "" {
		os.RemoveAll(filepath.Dir(agentBuild.path))
	}
	os.Exit(code)
}

// proc runs the agent binary on dir and waits for it.
func proc(t *testing.T, dir string, args ...string) result {
	t.Helper()
	sharedAgent(t)
	r, err := runAgent(dir, args...)
	require.NoError(t, err, "run %v", args)
	return r
}

// procNoFail is proc for another goroutine: it never stops the test (a
// failure to start shows as exit code -1 and the error in stderr).
func procNoFail(t *testing.T, dir string, args ...string) result {
	r, err := runAgent(dir, args...)
	if err != nil {
		return result{-1, "", err.Error()}
	}
	return r
}

func runAgent(dir string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBuild.path, append(args, "--data-dir", dir)...)
	cmd.Env = append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_AGENT_DIR=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return result{}, err
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}, nil
}

// ok runs the agent and requires success.
func ok(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := proc(t, dir, args...)
	require.Equal(t, 0, r.code, "hamlet-agent %v: %s%s", args, r.stdout, r.stderr)
	return r
}

// procAddHH adds a household through the binary and returns its id.
func procAddHH(t *testing.T, dir, hamlet, head string) string {
	t.Helper()
	r := ok(t, dir, "household", "add", "--hamlet", hamlet, "--head", head, "--json")
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
	return rec.ID
}

// heads lists the household heads a replica holds.
func heads(t *testing.T, dir string) map[string]bool {
	t.Helper()
	r := ok(t, dir, "household", "list", "--json")
	var hs []struct{ Fields map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &hs), r.stdout)
	out := map[string]bool{}
	for _, h := range hs {
		if s, ok := h.Fields["head_name"].(string); ok {
			out[s] = true
		}
	}
	return out
}

// procStatus is `status --json`.
func procStatus(t *testing.T, dir string) map[string]any {
	t.Helper()
	r := ok(t, dir, "status", "--json")
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	return s
}

// copyDir copies a data folder the way a volunteer does (every file).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(to, 0o700))
	ents, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o600))
	}
}

// storeCase is a server store the binary tests run against.
type storeCase struct {
	name  string
	start func(t *testing.T) *servertest.TS
}

// serverStores is SQLite, and PostgreSQL when the test cluster is there
// (scripts/pg-test.sh; the subtest skips otherwise).
func serverStores() []storeCase {
	return []storeCase{
		{"sqlite", func(t *testing.T) *servertest.TS { return servertest.Start(t) }},
		{"postgres", func(t *testing.T) *servertest.TS {
			st, err := pgstore.Open(context.Background(), pgtest.FreshDB(t), pgstore.Options{Logger: servertest.Logger()})
			require.NoError(t, err)
			return servertest.Start(t, servertest.WithStore(st))
		}},
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/testpar"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The tests that drive the real hamlet-agent binary (issue 14's faults,
// copies, kills, conflicts between laptops) share this harness: the
// binary is built once per test process, and a laptop is a data folder
// used through it as a volunteer's shell would, a process per command,
// killed with SIGKILL where the fault needs it. (cli, in main_test.go,
// runs the commands in-process instead.)

var agentBuild struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// agentBinary builds cmd/hamlet-agent into a temporary directory, once for
// every test of the process that runs the binary.
func agentBinary(t testing.TB) string {
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
	code := testpar.Run(m) // the tests mostly wait on the binaries they start
	pgtest.DropTemplate()  // the one pgtest.MigratedDB copies
	if agentBuild.path != "" {
		os.RemoveAll(filepath.Dir(agentBuild.path))
	}
	if communeBuild.dir != "" {
		os.RemoveAll(communeBuild.dir)
	}
	os.Exit(code)
}

// commandTimeout bounds one command of the binary (none takes more than a
// second or two in these tests; a hang must fail the test with its
// goroutines).
const commandTimeout = time.Minute

// laptop is one volunteer's data folder used through the binary.
type laptop struct {
	t   testing.TB
	bin string
	dir string
	// lang, if set, is passed as --lang to every command (the default is
	// the environment's, which the harness clears: Vietnamese).
	lang string
	// env is added to every command's environment (HAMLET_CLOCK_SHIFT).
	env []string
}

// newLaptop is a laptop whose data folder is dir (created by the first
// command that needs it).
func newLaptop(t testing.TB, dir string) *laptop {
	return &laptop{t: t, bin: agentBinary(t), dir: dir}
}

// command is one command of the binary on the laptop's folder, with no
// language or data folder from the test's environment.
func (l *laptop) command(ctx context.Context, args ...string) *exec.Cmd {
	args = append(args, "--data-dir", l.dir)
	if l.lang != "" {
		args = append(args, "--lang", l.lang)
	}
	cmd := exec.CommandContext(ctx, l.bin, args...)
	cmd.Env = append(append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_LANG=", "HAMLET_AGENT_DIR=", "HAMLET_CLOCK_SHIFT=", "HAMLET_TEST="), l.env...)
	// A command that hangs dumps its goroutines into its stderr.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// exec runs one command to its end. It never stops the test, so another
// goroutine may call it; err is only a failure to run the binary.
func (l *laptop) exec(args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	c, err := l.start(ctx, args...)
	if err != nil {
		return result{}, err
	}
	return c.wait()
}

// running is a command started (start) and not yet waited for.
type running struct {
	ctx       context.Context
	cmd       *exec.Cmd
	out, errf *os.File
	exited    chan struct{}
	err       error // cmd.Wait's, once exited is closed
}

// start starts one command; its output goes to files, which stderrNow
// reads while it runs. The command writes into files, not pipes, so its
// output is whole once it has exited. Through pipes, Run also waited for
// the goroutines of this process that copy them, up to WaitDelay (5 s)
// after the exit: a starved run (one core, load ~20) failed a `visit add`
// that had exited 0 with "exec: WaitDelay expired before I/O complete".
func (l *laptop) start(ctx context.Context, args ...string) (*running, error) {
	c := &running{ctx: ctx, cmd: l.command(ctx, args...), exited: make(chan struct{})}
	var err error
	if c.out, err = os.CreateTemp("", "hamlet-agent-stdout-"); err != nil {
		return nil, err
	}
	if c.errf, err = os.CreateTemp("", "hamlet-agent-stderr-"); err != nil {
		c.close()
		return nil, err
	}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.errf
	if err := c.cmd.Start(); err != nil {
		c.close()
		return nil, err
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	return c, nil
}

// stderrNow is what the command has written to its stderr so far.
func (c *running) stderrNow() string {
	b, _ := os.ReadFile(c.errf.Name())
	return string(b)
}

// wait waits for the command's end and returns what it printed; err is
// only a failure to run it, or its context's end. Its files are removed.
func (c *running) wait() (result, error) {
	<-c.exited
	defer c.close()
	var ee *exec.ExitError
	if c.err != nil && !errors.As(c.err, &ee) {
		return result{}, c.err
	}
	stdout, rerr := os.ReadFile(c.out.Name())
	if rerr != nil {
		return result{}, rerr
	}
	stderr, rerr := os.ReadFile(c.errf.Name())
	if rerr != nil {
		return result{}, rerr
	}
	if c.ctx.Err() != nil {
		return result{}, errors.New("timed out: " + string(stderr))
	}
	return result{c.cmd.ProcessState.ExitCode(), string(stdout), string(stderr)}, nil
}

func (c *running) close() {
	for _, f := range []*os.File{c.out, c.errf} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// run runs one command to its end, whatever its exit code.
func (l *laptop) run(args ...string) result {
	l.t.Helper()
	r, err := l.exec(args...)
	require.NoError(l.t, err, "hamlet-agent %v", args)
	return r
}

// must runs a command that has to succeed.
func (l *laptop) must(args ...string) result {
	l.t.Helper()
	r := l.run(args...)
	require.Equal(l.t, 0, r.code, "hamlet-agent %v:\n%s%s", args, r.stdout, r.stderr)
	return r
}

// enroll enrolls the laptop with a code for a new member of team A.
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

// mustAdd records a household that has to be saved, and returns its id.
func (l *laptop) mustAdd(hamlet, head string) string {
	l.t.Helper()
	id, r := l.add(hamlet, head)
	require.NotEmpty(l.t, id, "household add:\n%s%s", r.stdout, r.stderr)
	return id
}

// listed is one household as household list --json prints it.
type listed struct {
	ID     string
	Head   string
	Fields map[string]any
}

// list lists the households the laptop holds, deleted ones too.
func (l *laptop) list() []listed {
	l.t.Helper()
	r := l.must("household", "list", "--deleted", "--json")
	var recs []listed
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &recs), r.stdout)
	for i := range recs {
		recs[i].Head, _ = recs[i].Fields["head_name"].(string)
	}
	return recs
}

// households is the ids of list.
func (l *laptop) households() map[string]bool {
	l.t.Helper()
	out := map[string]bool{}
	for _, rec := range l.list() {
		out[rec.ID] = true
	}
	return out
}

// heads lists the heads of the households the laptop holds (not deleted).
func (l *laptop) heads() map[string]bool {
	l.t.Helper()
	r := l.must("household", "list", "--json")
	var hs []struct{ Fields map[string]any }
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &hs), r.stdout)
	out := map[string]bool{}
	for _, h := range hs {
		if s, ok := h.Fields["head_name"].(string); ok {
			out[s] = true
		}
	}
	return out
}

// household is one household as household show --json prints it, its
// deleted flag among the fields.
func (l *laptop) household(id string) map[string]any {
	l.t.Helper()
	var rec struct {
		Deleted bool           `json:"deleted"`
		Fields  map[string]any `json:"fields"`
	}
	r := l.must("household", "show", id, "--json")
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
	rec.Fields["deleted"] = rec.Deleted
	return rec.Fields
}

// status is status --json.
func (l *laptop) status() map[string]any {
	l.t.Helper()
	r := l.must("status", "--json")
	var s map[string]any
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	return s
}

// pending is status's count of changes not yet sent.
func (l *laptop) pending() int {
	l.t.Helper()
	r := l.must("status", "--json")
	var s struct{ Pending int }
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	return s.Pending
}

// rejectedJSON is one refused change as rejected --json prints it.
type rejectedJSON struct {
	ID    int64  `json:"id"`
	Row   string `json:"row_id"`
	Field string `json:"field"`
}

// rejected lists the changes the server refused.
func (l *laptop) rejected() []rejectedJSON {
	l.t.Helper()
	r := l.must("rejected", "--json")
	var rows []rejectedJSON
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	return rows
}

// rejectedRows are the row ids of the changes the server refused.
func (l *laptop) rejectedRows() map[string]bool {
	l.t.Helper()
	out := map[string]bool{}
	for _, row := range l.rejected() {
		out[row.Row] = true
	}
	return out
}

// conflictJSON is one conflict as conflicts --json prints it.
type conflictJSON struct {
	ID    int64  `json:"id"`
	Row   string `json:"row_id"`
	Field string `json:"field"`
	Loser struct {
		Value any `json:"value"`
	} `json:"loser"`
	Winner struct {
		Value any `json:"value"`
	} `json:"winner"`
}

// conflicts lists the laptop's open conflicts.
func (l *laptop) conflicts() []conflictJSON {
	l.t.Helper()
	var cs []conflictJSON
	r := l.must("conflicts", "--json")
	require.NoError(l.t, json.Unmarshal([]byte(r.stdout), &cs), r.stdout)
	return cs
}

// logIfFailed runs log at the test's end if it failed (a t.Cleanup, run
// before its temporary folders go): what the laptops hold is read to
// explain a failure, not on every passing run, where each such read is a
// process of the binary that asserts nothing.
func logIfFailed(t testing.TB, log func()) {
	t.Cleanup(func() {
		if t.Failed() {
			log()
		}
	})
}

// copyTo copies the laptop's data folder to dir the way a volunteer does
// (every file), and returns the copy as a laptop.
func (l *laptop) copyTo(dir string) *laptop {
	l.t.Helper()
	require.NoError(l.t, os.MkdirAll(dir, 0o700))
	ents, err := os.ReadDir(l.dir)
	require.NoError(l.t, err)
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(l.dir, e.Name()))
		require.NoError(l.t, err)
		require.NoError(l.t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600))
	}
	return &laptop{t: l.t, bin: l.bin, dir: dir, lang: l.lang}
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
			st, err := pgstore.Open(context.Background(), pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{Logger: servertest.Logger()})
			require.NoError(t, err)
			return servertest.Start(t, servertest.WithStore(st))
		}},
	}
}

// syncInTurn syncs each laptop in turn, each sync ending well.
func syncInTurn(t *testing.T, ls ...*laptop) {
	t.Helper()
	for _, l := range ls {
		r := l.run("sync")
		t.Logf("sync of %s: exit %d\n%s%s", filepath.Base(l.dir), r.code, r.stdout, r.stderr)
		require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	}
}

// freshClone is a laptop enrolled in ts's team A at dir and synced once:
// what the server holds, to compare others with.
func freshClone(t *testing.T, ts *servertest.TS, dir string) *laptop {
	t.Helper()
	fresh := newLaptop(t, dir)
	fresh.enroll(ts)
	fresh.must("sync")
	return fresh
}

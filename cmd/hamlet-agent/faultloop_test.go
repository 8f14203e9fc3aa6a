package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// faultIterations is how often the loop runs each case.
const faultIterations = 20

// faultCase is one fault of TestFaultInjectionLoop. setup prepares the
// case's laptop once; iterate injects the fault once, with its kill points
// drawn from f.rng, and records in f.saved every record the volunteer was
// told is saved (a command that exited 0). Cases share one server.
type faultCase struct {
	name string
	// dir makes the laptop's data directory (nil: a temporary one).
	dir     func(f *faultRun) string
	setup   func(f *faultRun)
	iterate func(f *faultRun, i int)
}

// faultRun is the state of one case.
type faultRun struct {
	t     *testing.T
	ts    *servertest.TS
	l     *binLaptop
	rng   *rand.Rand
	saved []string
	disk  string // the case's small filesystem, if any
	n     int    // households added so far (names)
}

// killAt runs a command and sends it SIGKILL after a random delay below
// max, unless it ended first. killed reports whether the kill cut it short.
func (f *faultRun) killAt(max time.Duration, args ...string) (r result, killed bool) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := f.l.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(f.t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Duration(f.rng.Int64N(int64(max)))):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err = <-done
		killed = cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled()
	}
	r = result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
	if err != nil && !killed && r.code == 0 {
		require.NoError(f.t, err)
	}
	return r, killed
}

// add records a household, killed at a random point when kill is set; a
// record whose command exited 0 is saved.
func (f *faultRun) add(kill bool) result {
	f.t.Helper()
	f.n++
	args := []string{"household", "add", "--hamlet", f.ts.HamletsA[f.n%len(f.ts.HamletsA)], "--head", fmt.Sprintf("Hộ thử lỗi %d", f.n), "--json"}
	var r result
	if kill {
		r, _ = f.killAt(60*time.Millisecond, args...)
	} else {
		r = f.l.run(args...)
	}
	if r.code == 0 {
		var rec struct{ ID string }
		require.NoError(f.t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
		f.saved = append(f.saved, rec.ID)
	} else {
		// Whatever stopped it, the volunteer is told in one message.
		require.LessOrEqual(f.t, countErrorPrefix(r.stderr), 1, r.stderr)
		require.NotContains(f.t, r.stderr, "database is locked", "a write waits for another process")
	}
	return r
}

// syncKilled syncs, killed at a random point.
func (f *faultRun) syncKilled() result {
	f.t.Helper()
	r, _ := f.killAt(250*time.Millisecond, "sync")
	return r
}

// damaged reports whether the replica is marked damaged.
func (f *faultRun) damaged() bool {
	_, err := os.Stat(filepath.Join(f.l.dir, "replica.db.damaged"))
	return err == nil
}

// repair repairs, first cut short at a random point, then to its end; if
// the repair could not read the enrollment, the volunteer enrolls again
// with a new code, as the message says.
func (f *faultRun) repair() {
	f.t.Helper()
	f.killAt(150*time.Millisecond, "repair", "--offline")
	r := f.l.must("repair", "--offline")
	if strings.Contains(r.stderr, "hamlet-agent enroll") {
		f.l.enroll(f.ts)
	}
}

func faultCases() []faultCase {
	return []faultCase{
		{
			// A lid closed (SIGKILL) in the middle of household add and of
			// sync.
			name: "killed add and sync",
			iterate: func(f *faultRun, i int) {
				for j := 0; j < 2; j++ {
					f.add(f.rng.IntN(2) == 0)
				}
				f.syncKilled()
			},
		},
		{
			// Defect 5: commands at once. A sync (killed at a random
			// point) and a reader run while the volunteer adds records:
			// every add waits for the others and succeeds.
			name: "two commands at once",
			iterate: func(f *faultRun, i int) {
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); f.syncKilled() }()
				go func() {
					defer wg.Done()
					for _, read := range [][]string{{"status"}, {"household", "list"}, {"rejected"}} {
						cmd := f.l.command(context.Background(), read...)
						_ = cmd.Run()
					}
				}()
				for j := 0; j < 2; j++ {
					r := f.add(false)
					require.Equal(f.t, 0, r.code, "household add while other commands run:\n%s", r.stderr)
				}
				wg.Wait()
			},
		},
		{
			// Defect 4: a page of the replica damaged (16 bytes or the whole
			// page, anywhere but the file's first page, which holds the
			// schema: without it SQLite reads nothing and only the server's
			// copy is left). The agent refuses to write or push; repair
			// (itself cut short once) salvages.
			name: "damaged replica",
			setup: func(f *faultRun) {
				for j := 0; j < 30; j++ {
					f.add(false)
				}
				f.l.must("sync")
			},
			iterate: func(f *faultRun, i int) {
				f.add(false)
				file := filepath.Join(f.l.dir, "replica.db")
				if _, err := os.Stat(file + "-wal"); err == nil {
					// A killed command left its log: the next command folds
					// it into the file when it ends.
					f.l.must("status")
				}
				st, err := os.Stat(file)
				require.NoError(f.t, err)
				pages := st.Size() / 4096
				page := 1 + f.rng.Int64N(pages-1)
				size := 16
				if f.rng.IntN(2) == 0 {
					size = 4096
				}
				damage(f.t, file, page*4096, size)
				f.add(true)
				f.syncKilled()
				if !f.damaged() {
					// Not found yet (a free page; a killed sync): the next
					// sync's check looks.
					f.l.run("sync")
				}
				if f.damaged() {
					f.repair()
				}
				f.l.run("sync")
			},
		},
		{
			// Defect 6: the disk fills up while the volunteer adds and
			// syncs (killed at a random point), then space is freed.
			name: "full disk",
			dir: func(f *faultRun) string {
				f.disk = smallDisk(f.t, 4<<20)
				return filepath.Join(f.disk, "hamlet")
			},
			iterate: func(f *faultRun, i int) {
				filler := fill(f.t, f.disk)
				// Leave a little room, or none.
				require.NoError(f.t, os.Truncate(filler, max(0, fileSize(f.t, filler)-4096*f.rng.Int64N(24))))
				for j := 0; j < 2; j++ {
					r := f.add(f.rng.IntN(3) == 0)
					if r.code > 0 {
						require.Contains(f.t, r.stderr, "Ổ đĩa của máy đã đầy", "a failed add on a full disk says so")
					}
				}
				r := f.syncKilled()
				require.NotContains(f.t, r.stderr, "Không kết nối được máy chủ", "a full disk is not the network")
				require.NoError(f.t, os.Remove(filler))
			},
		},
	}
}

func fileSize(t testing.TB, name string) int64 {
	st, err := os.Stat(name)
	require.NoError(t, err)
	return st.Size()
}

// TestFaultInjectionLoop runs each fault case faultIterations times with
// random kill points, then checks that every record the volunteer was told
// is saved is on the server, or still listed on the laptop as not yet
// sent (status) or refused (rejected).
func TestFaultInjectionLoop(t *testing.T) {
	ts := servertest.Start(t)
	// HAMLET_FAULT_SEED replays a run's damage and kill draws (the kill
	// points' effect still depends on timing).
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("HAMLET_FAULT_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (HAMLET_FAULT_SEED)", seed)
	for ci, fc := range faultCases() {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			f := &faultRun{t: t, ts: ts, rng: rand.New(rand.NewPCG(seed, uint64(ci)))}
			dir := t.TempDir()
			if fc.dir != nil {
				dir = fc.dir(f)
			}
			f.l = newLaptop(t, dir)
			f.l.enroll(ts)
			f.l.must("sync")
			if fc.setup != nil {
				fc.setup(f)
			}
			for i := 0; i < faultIterations; i++ {
				fc.iterate(f, i)
			}
			f.settle()
		})
	}
}

// settle ends a case: the faults stop, and a sync must succeed (a damaged
// replica is repaired first); then every saved record is accounted for.
func (f *faultRun) settle() {
	t := f.t
	if f.damaged() {
		f.repair()
	}
	// One attempt: the first sync after any crash succeeds (defect 7).
	r := f.l.run("sync")
	require.Equal(t, 0, r.code, "the sync after the faults:\n%s%s", r.stdout, r.stderr)
	onServer := serverHouseholds(t, f.ts)
	local := f.l.households()
	rejected := f.l.rejectedRows()
	pending := f.l.pending()
	var missing []string
	for _, id := range f.saved {
		switch {
		case onServer[id]:
		case rejected[id]:
		case local[id] && pending > 0:
		default:
			missing = append(missing, id)
		}
	}
	require.Empty(t, missing, "%d of %d saved records are neither on the server nor listed on the laptop", len(missing), len(f.saved))
	t.Logf("%d saved records accounted for (%d on the laptop, %d pending)", len(f.saved), len(local), pending)
}

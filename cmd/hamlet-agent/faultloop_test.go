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

	"github.com/hamlet-vn/hamlet/server"
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
	l     *laptop   // the case's laptop
	more  []*laptop // laptops the case added (copies, new enrollments)
	rng   *rand.Rand
	saved []savedRecord
	disk  string         // the case's small filesystem, if any
	url   string         // the server's address as the case's laptops enroll (slowProxy), if not ts.URL
	n     int            // households added so far (names)
	seen  map[string]int // what the kills cut, by kind (logged)
}

// savedRecord is a household a laptop said it saved.
type savedRecord struct {
	on *laptop
	id string
}

// laptops are every laptop of the case.
func (f *faultRun) laptops() []*laptop { return append([]*laptop{f.l}, f.more...) }

// killAt runs a command on l and sends it SIGKILL after a random delay
// below max, unless it ended first. killed reports whether the kill cut it
// short.
func (f *faultRun) killAt(l *laptop, max time.Duration, args ...string) (r result, killed bool) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := l.command(ctx, args...)
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

// add records a household on the case's laptop (addTo).
func (f *faultRun) add(kill bool) result {
	f.t.Helper()
	return f.addTo(f.l, kill)
}

// addTo records a household on l, killed at a random point when kill is
// set; a record whose command exited 0 is saved.
func (f *faultRun) addTo(l *laptop, kill bool) result {
	f.t.Helper()
	f.n++
	args := []string{"household", "add", "--hamlet", f.ts.HamletsA[f.n%len(f.ts.HamletsA)], "--head", fmt.Sprintf("Hộ thử lỗi %d", f.n), "--json"}
	var r result
	if kill {
		r, _ = f.killAt(l, 60*time.Millisecond, args...)
	} else {
		r = l.run(args...)
	}
	if r.code == 0 {
		var rec struct{ ID string }
		require.NoError(f.t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
		f.saved = append(f.saved, savedRecord{l, rec.ID})
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
	r, _ := f.killAt(f.l, 250*time.Millisecond, "sync")
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
	f.killAt(f.l, 150*time.Millisecond, "repair", "--offline")
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
		{
			// Defect 1: a synced data folder copied (a second laptop set up
			// by copying, a restored backup), each copy adding records; one
			// copy's sync is killed at a random point: the first sync after
			// the copy, or the second, which finds its folder is a copy and
			// takes a new replica id. Both copies keep adding and syncing.
			// Each time a folder of the case, a copy of a copy at times, is
			// copied again.
			name: "copied folder",
			iterate: func(f *faultRun, i int) {
				all := f.laptops()
				from := all[f.rng.IntN(len(all))]
				f.addTo(from, false) // unsent when copied: both copies hold it
				to := from.copyTo(filepath.Join(f.t.TempDir(), "copy"))
				f.more = append(f.more, to)
				f.addTo(from, false)
				f.addTo(to, false)
				killed, other := from, to
				if f.rng.IntN(2) == 0 {
					killed, other = to, from
				}
				if f.rng.IntN(2) == 0 {
					// The other syncs first: the killed sync is then the one
					// that finds its folder is a copy.
					other.must("sync")
				}
				if _, cut := f.killAt(killed, 120*time.Millisecond, "sync"); cut {
					f.seen["sync of a copy killed"]++
				} else {
					f.seen["sync of a copy finished"]++
				}
				for _, l := range []*laptop{killed, other} {
					f.addTo(l, false)
				}
				for _, l := range []*laptop{other, killed} {
					r := l.run("sync")
					require.Equal(f.t, 0, r.code, "round %d: the sync of a copy:\n%s%s", i, r.stdout, r.stderr)
				}
				require.NotEqual(f.t, from.status()["replica_id"], to.status()["replica_id"], "round %d: the copies took replica ids of their own", i)
			},
		},
		{
			// Defect 2: enroll killed at a random point (a closed lid) on a
			// slow network, so kills land before the request, between the
			// server's enrollment and its answer, and after it. The folder
			// stays usable; if it is not enrolled, enroll with the same
			// code enrolls it; then the volunteer adds and syncs.
			name: "killed enroll",
			setup: func(f *faultRun) {
				f.url = slowProxy(f.t, f.ts.URL, 80*time.Millisecond)
			},
			iterate: func(f *faultRun, i int) {
				ctx := context.Background()
				m, err := f.ts.Admin.AddMember(ctx, f.ts.TeamA, "Tình nguyện viên", "member", "")
				require.NoError(f.t, err)
				code, _, err := f.ts.Admin.IssueCode(ctx, m.ID, time.Hour)
				require.NoError(f.t, err)
				l := newLaptop(f.t, filepath.Join(f.t.TempDir(), "hamlet"))
				f.more = append(f.more, l)
				r, killed := f.killAt(l, 150*time.Millisecond, "enroll", "--server", f.url, "--code", code)
				require.True(f.t, killed || r.code == 0, "round %d: enroll:\n%s%s", i, r.stdout, r.stderr)
				codes, err := f.ts.Admin.ListCodes(ctx, server.DeviceFilter{MemberID: m.ID})
				require.NoError(f.t, err)
				switch {
				case !killed:
					f.seen["enroll finished"]++
				case codes[0].Used != nil:
					f.seen["killed after the server used the code"]++
				default:
					f.seen["killed before the server used the code"]++
				}
				st := l.run("status", "--json")
				require.Equal(f.t, 0, st.code, "round %d: the folder of a killed enroll stays usable:\n%s", i, st.stderr)
				// The status that showed the folder usable tells whether it
				// is enrolled: a second status would read the same folder.
				var status struct{ Enrolled bool }
				require.NoError(f.t, json.Unmarshal([]byte(st.stdout), &status), st.stdout)
				_, tokErr := os.Stat(filepath.Join(l.dir, "token"))
				if !status.Enrolled || tokErr != nil {
					l.must("enroll", "--server", f.url, "--code", code)
				}
				f.addTo(l, f.rng.IntN(3) == 0)
				f.addTo(l, false)
				r = l.run("sync")
				require.Equal(f.t, 0, r.code, "round %d: the first sync after enroll:\n%s%s", i, r.stdout, r.stderr)
				devs, err := f.ts.Admin.ListDevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
				require.NoError(f.t, err)
				require.Len(f.t, devs, 1, "round %d: one device for the member", i)
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
	t.Parallel()
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
			f := &faultRun{t: t, ts: ts, rng: rand.New(rand.NewPCG(seed, uint64(ci))), seen: map[string]int{}}
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

// settle ends a case: the faults stop, and a sync of each laptop must
// succeed (a damaged replica is repaired first); then every saved record
// is accounted for: on the server, or still listed on its laptop as not
// yet sent (status) or refused (rejected).
func (f *faultRun) settle() {
	t := f.t
	if f.damaged() {
		f.repair()
	}
	// One attempt: the first sync after any crash succeeds (defect 7).
	for _, l := range f.laptops() {
		r := l.run("sync")
		require.Equal(t, 0, r.code, "the sync of %s after the faults:\n%s%s", l.dir, r.stdout, r.stderr)
	}
	onServer := serverHouseholds(t, f.ts)
	type listing struct {
		local, rejected map[string]bool
		pending         int
	}
	listings := map[*laptop]*listing{}
	var missing []string
	pending := 0
	for _, rec := range f.saved {
		if onServer[rec.id] {
			continue
		}
		ls := listings[rec.on]
		if ls == nil {
			ls = &listing{rec.on.households(), rec.on.rejectedRows(), rec.on.pending()}
			listings[rec.on] = ls
			pending += ls.pending
		}
		switch {
		case ls.rejected[rec.id]:
		case ls.local[rec.id] && ls.pending > 0:
		default:
			missing = append(missing, rec.id)
		}
	}
	require.Empty(t, missing, "%d of %d saved records are neither on the server nor listed on their laptop", len(missing), len(f.saved))
	t.Logf("%d saved records on %d laptops accounted for (%d changes pending)", len(f.saved), len(f.laptops()), pending)
	if len(f.seen) > 0 {
		t.Logf("kills: %v", f.seen)
	}
}

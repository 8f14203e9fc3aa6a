package simtest

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	flagSeed      = flag.Uint64("seed", 0, "TestReplay: run the schedule of this seed and print its trace")
	flagSchedule  = flag.String("schedule", "", "TestReplay: replay these choices (what a failure prints) instead of the seed's")
	flagSchedules = flag.Int("schedules", 240, "TestSchedules: how many schedules (make sim-long sets it)")
	flagFirst     = flag.Uint64("first", 1, "TestSchedules: the first seed")
	flagSteps     = flag.Int("steps", 0, "steps per schedule (0: the default)")
	flagTruncate  = flag.Bool("truncate", false, "run the server with --truncate-log")
	flagWorkers   = flag.Int("workers", 0, "TestSchedules: parallel workers (0: GOMAXPROCS)")
	flagWide      = flag.Bool("wide", false, "add the operations that still break an invariant (Config.Wide)")
	flagSilent    = flag.Bool("silent", false, "add laptops silent past the horizon (Config.Silent)")
	flagConflicts = flag.Bool("conflicts", false, "hold the conflict-log invariant at rest (Config.Conflicts)")
)

// TestReplay runs one schedule (-seed, or -schedule) and prints its trace
// as it happens: `make sim SEED=N`.
func TestReplay(t *testing.T) {
	if *flagSeed == 0 && *flagSchedule == "" {
		t.Skip("make sim SEED=N replays one schedule")
	}
	cfg := Config{Seed: *flagSeed, Steps: *flagSteps, Truncate: truncateFor(*flagSeed), Wide: *flagWide, Silent: *flagSilent, Conflicts: *flagConflicts, Trace: os.Stdout}
	if *flagSchedule != "" {
		ch, err := decodeSchedule(*flagSchedule)
		require.NoError(t, err)
		cfg.Schedule = ch
	}
	res := Run(cfg)
	t.Logf("seed %d: %d steps, %d task runs, %d frames, %s", res.Seed, res.Steps, res.Tasks, res.Frames, res.Duration)
	if res.Failure != nil {
		t.Fatalf("seed %d: %v", res.Seed, res.Failure)
	}
}

// TestSameSeedSameTrace: a schedule replays exactly. Two runs of each seed
// write the same trace, byte for byte, and so does a replay of the
// choices the first run made.
func TestSameSeedSameTrace(t *testing.T) {
	n := uint64(6)
	if *flagSchedules > 1000 {
		n = uint64(*flagSchedules) / 1000 // make sim-long checks more
	}
	for seed := uint64(1); seed <= n; seed++ {
		a := Run(Config{Seed: seed, Truncate: seed%2 == 0})
		b := Run(Config{Seed: seed, Truncate: seed%2 == 0})
		require.NoError(t, errOf(a.Failure), "seed %d", seed)
		require.Greater(t, a.Steps, 200, "seed %d", seed)
		if !bytes.Equal(a.Trace, b.Trace) {
			t.Fatalf("seed %d: two runs differ at\n%s", seed, firstDiff(a.Trace, b.Trace))
		}
		c := Run(Config{Seed: seed, Truncate: seed%2 == 0, Schedule: a.Choices})
		if !bytes.Equal(a.Trace, c.Trace) {
			t.Fatalf("seed %d: the replay of its choices differs at\n%s", seed, firstDiff(a.Trace, c.Trace))
		}
	}
}

func errOf(f error) error { return f }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// truncateFor is whether a seed's server runs with --truncate-log: every
// even seed, every seed with -truncate.
func truncateFor(seed uint64) bool { return *flagTruncate || seed%2 == 0 }

// firstDiff shows the first line where two traces part.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("one ends first (%d against %d lines)", len(la), len(lb))
}

// TestSchedules runs many schedules on parallel workers, half of them with
// log truncation on; a failure prints its seed, the shortest schedule
// found that still fails and how to replay it. `make test` runs the
// default count; `make sim-long SCHEDULES=N` many more, and prints the
// rate.
func TestSchedules(t *testing.T) {
	n := *flagSchedules
	if testing.Short() {
		n = min(n, 20)
	}
	workers := *flagWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next, done, steps atomic.Int64
	next.Store(int64(*flagFirst))
	last := int64(*flagFirst) + int64(n)
	var mu sync.Mutex
	var failed []Result
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed := next.Add(1) - 1
				if seed >= last {
					return
				}
				res := Run(Config{Seed: uint64(seed), Steps: *flagSteps, Truncate: truncateFor(uint64(seed)), Wide: *flagWide, Silent: *flagSilent, Conflicts: *flagConflicts})
				steps.Add(int64(res.Steps))
				done.Add(1)
				if res.Failure != nil {
					mu.Lock()
					failed = append(failed, res)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	t.Logf("%d schedules (%d steps) on %d workers in %s: %.1f schedules/s, %d failed",
		done.Load(), steps.Load(), workers, el.Round(time.Millisecond), float64(done.Load())/el.Seconds(), len(failed))
	slices.SortFunc(failed, func(a, b Result) int { return cmp.Compare(a.Seed, b.Seed) })
	for i, res := range failed {
		if i < 20 {
			t.Logf("seed %d fails: %s", res.Seed, firstLine(res.Failure.Error()))
		}
	}
	for i, res := range failed {
		if i == 3 {
			t.Errorf("… and %d more failed", len(failed)-3)
			break
		}
		short := Shrink(res, 200)
		t.Errorf("seed %d fails: %s\nshortest schedule found (%d choices, from %d): fails with %s\nreplay: make sim SEED=%d STEPS=%d WIDE=%d SILENT=%d CONFLICTS=%d SCHEDULE=%s\ntrace of the shortest:\n%s",
			res.Seed, firstLine(res.Failure.Error()), len(short.Choices), len(res.Choices), firstLine(errText(short.Failure)),
			res.Seed, short.Config.Steps, b2i(res.Config.Wide), b2i(res.Config.Silent), b2i(res.Config.Conflicts), encodeSchedule(short.Choices), tail(short.Trace, 40))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// tail is the last n lines of a trace.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// TestFoundDefects replays the schedules that found a defect, each now
// fixed: each failed before its fix (the failure it printed is in the
// comment) and must pass since.
func TestFoundDefects(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		// A household added and moved to another hamlet before its laptop
		// synced reached the team of its new hamlet with the move alone:
		// "L2 does not hold what the server holds in households (scope
		// [32002-01 32002-03]): row c28c095a: active="<nil>" (server "1"),
		// head_name="<nil>" (server "Chủ hộ 283") …" (server/install.go).
		{"created and moved in one push", Config{Seed: 8, Wide: true, Truncate: true}},
		// A laptop that wrote a visit before it ever pulled, whose
		// household the server then moved (with the visit) out of its scope,
		// cloned and kept the visit where it had left it: "L3 does not hold
		// what the server holds in visits (scope [32002-01]): holds
		// 9b24d31a, which the server does not" (agent/clone.go needsClone).
		{"first clone keeps a row moved out of scope", Config{Seed: 63, Wide: true}},
		{"first clone keeps a row moved out of scope, again", Config{Seed: 171, Wide: true}},
		// A device revoked before any Welcome noted the hamlets it held,
		// enrolled again after its team lost one, kept that hamlet's rows:
		// "L4 holds 1 live households outside its team's hamlets
		// [32002-01] after syncing" (agent/enroll.go EnrollWith). Seed 19
		// failed the same way ("L1 holds 2 live households outside its
		// team's hamlets [32002-02 32002-04]"); the first clone's drop
		// above also covers it.
		{"re-enrolled after losing a hamlet", Config{Seed: 214, Wide: true}},
		{"re-enrolled after losing a hamlet, cloned", Config{Seed: 19, Wide: true}},
		// A laptop that pulled a page and went silent before its next Pull
		// (the one that acknowledges it) was known to the server at cursor
		// 0, so back past the horizon it was not told to clone again; it
		// pulled below the floor, was refused, replayed the truncated log
		// from 0 and was refused again at every sync: "the world does not
		// come to rest after 8 rounds of syncs" (server/snapshot.go
		// recloneNeeded). Seeds 30, 55 and 58 failed the same way.
		{"silent before acknowledging its first pull", Config{Seed: 9, Silent: true}},
		// A household a silent laptop corrected and moved, deleted and
		// collected meanwhile, was made again from the head and hamlet
		// alone: "L3 does not hold what the server holds in households
		// (scope [32002-01 32002-02]): lacks 7112937d" (server/apply.go
		// collected).
		{"an edit of a collected household", Config{Seed: 43, Silent: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := Run(c.cfg)
			if res.Failure != nil {
				t.Fatalf("seed %d (make sim SEED=%d WIDE=%d SILENT=%d): %v", c.cfg.Seed, c.cfg.Seed, b2i(c.cfg.Wide), b2i(c.cfg.Silent), res.Failure)
			}
		})
	}
}

package simtest

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A task that blocks on something the scheduler does not see fails the
// schedule through the watchdog, and the crash that tears the world down
// afterwards returns: it must not wait for that task again. It waited for
// ever, and the worker of a long run with it (stop 33: a task held up past
// the watchdog while its process was stopped, then the teardown hung).
func TestWatchdogFailureDoesNotHangTheTeardown(t *testing.T) {
	s := newSched(simStart, func(int) int { return 0 })
	s.watchdog = 50 * time.Millisecond
	p := &proc{name: "server"}
	s.procFor = p
	hidden := make(chan struct{})
	defer close(hidden) // lets the blocked task end after the test
	blocked := s.spawn(p, "blocked", func() { <-hidden })

	func() {
		defer func() {
			r := recover()
			require.NotNil(t, r, "the watchdog fails the task")
			require.Contains(t, r, "ran 50ms without parking")
		}()
		s.run(blocked)
	}()

	ended := make(chan struct{})
	go func() {
		s.kill(p) // what the world's teardown does
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the teardown after a watchdog failure hangs")
	}
}

// A task that keeps computing past the watchdog (its process starved of
// CPU by a busy machine, or stopped and continued) is not failed: only
// one that waits on what the scheduler does not see is (above).
func TestWatchdogSparesATaskStillRunning(t *testing.T) {
	s := newSched(simStart, func(int) int { return 0 })
	s.watchdog = 50 * time.Millisecond
	p := &proc{name: "laptop"}
	s.procFor = p
	spins := 0
	busy := s.spawn(p, "busy", func() {
		for end := time.Now().Add(4 * s.watchdog); time.Now().Before(end); {
			spins++
		}
	})
	require.NotPanics(t, func() { s.run(busy) })
	require.Positive(t, spins)
	require.True(t, busy.done)
}

// TestShrinkKeepsTheWorld: Shrink's candidates run in the world the
// failure ran in, every knob of it.
func TestShrinkKeepsTheWorld(t *testing.T) {
	cfg := Config{Seed: 41, Steps: 300, Laptops: 4, Truncate: true, Wide: true, Silent: true, Fixes: true, Budget: true, Postgres: "postgres://x", Trace: io.Discard, NoTrace: true}
	got := shrinkConfig(Result{Seed: 41, Truncate: true, Config: cfg}, 120, []uint32{1, 2, 3})
	want := cfg
	want.Steps, want.Schedule, want.Trace, want.NoTrace = 120, []uint32{1, 2, 3}, nil, false
	require.Equal(t, want, got)
}

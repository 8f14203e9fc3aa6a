package agent

import (
	"context"
	"math/rand/v2"
	"time"
)

// Scheduler runs a sync session's waits as a task of a deterministic
// simulation (internal/simtest), which picks one task at a time by a seed and
// replays the same choices exactly. Production leaves SyncOptions.Sched
// nil: goroutines, timers and the wall clock, as before.
//
// Under a Scheduler a session starts no goroutine: the wire has no reader
// or pinger (recv reads the connection itself), the pull and the clone
// receive and store in turn instead of through a pump goroutine, and every
// wait (a frame, a sleep, Watch's poll) parks the task (Block) on the
// Scheduler's time.
type Scheduler interface {
	// Block parks the calling task until ready reports true. The scheduler
	// calls ready only while no task runs, and ready must change nothing.
	Block(ready func() bool)
	// Now is the scheduler's time: deadlines, sleeps and durations follow
	// it (Options.Now stays the clock the replica stamps writes with).
	Now() time.Time
	// Int64N is a random number in [0, n): the reconnect jitter.
	Int64N(n int64) int64
}

// ioNow is the time durations and deadlines are measured on.
func (o *SyncOptions) ioNow() time.Time {
	if o.Sched != nil {
		return o.Sched.Now()
	}
	return time.Now()
}

// jitter spreads d over [d/2, d) so a village of laptops does not reconnect
// in lockstep after the 3G tower comes back.
func (o *SyncOptions) jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	if o.Sched != nil {
		return d/2 + time.Duration(o.Sched.Int64N(int64(d/2)))
	}
	return d/2 + rand.N(d/2)
}

// sleep waits d, or until ctx ends.
func (o *SyncOptions) sleep(ctx context.Context, d time.Duration) error {
	if sch := o.Sched; sch != nil {
		until := sch.Now().Add(d)
		sch.Block(func() bool { return ctx.Err() != nil || !sch.Now().Before(until) })
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

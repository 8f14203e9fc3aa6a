package server

import (
	"time"
)

// Scheduler runs the server's concurrent work as tasks that a caller
// schedules one at a time, on a clock of its own: the deterministic
// simulation of internal/simtest, where one seed chooses every interleaving and
// replays it exactly. Production leaves Config.Sched nil: goroutines,
// channels, timers and the wall clock, as before.
//
// Under a Scheduler the server starts no goroutine of its own: the
// committer and each session's reader are tasks (Go); a session writes
// what it queues at once (conn.writeQueued) instead of from a writer
// goroutine; the periodic jobs run only when the caller runs them
// (RunJob); and every wait on another task (the committer, a session's
// lock, a connection's next frame) parks the task (Block).
type Scheduler interface {
	// Go starts f as a new task; it runs when the scheduler picks it.
	Go(name string, f func())
	// Block parks the calling task until ready reports true. The scheduler
	// calls ready only while no task runs, and ready must change nothing.
	Block(ready func() bool)
	// Now is the scheduler's time, which deadlines and timers follow
	// (Config.Now stays the clock the server stamps and judges with).
	Now() time.Time
	// AfterFunc runs f as a task once d has passed on Now; stop cancels
	// it and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// goTask starts f as a goroutine, or as a task of the Scheduler.
func (s *Server) goTask(name string, f func()) {
	if s.cfg.Sched != nil {
		s.cfg.Sched.Go(name, f)
		return
	}
	go f()
}

// ioNow is the time deadlines are set from: the wall clock, or the
// Scheduler's.
func (s *Server) ioNow() time.Time {
	if s.cfg.Sched != nil {
		return s.cfg.Sched.Now()
	}
	return time.Now()
}

// afterFunc is time.AfterFunc, or the Scheduler's.
func (s *Server) afterFunc(d time.Duration, f func()) (stop func() bool) {
	if s.cfg.Sched != nil {
		return s.cfg.Sched.AfterFunc(d, f)
	}
	return time.AfterFunc(d, f).Stop
}

// closed reports whether ch is closed (it is never sent on).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// wait blocks until ch is closed: a receive, or a parked task.
func (s *Server) wait(ch <-chan struct{}) {
	if s.cfg.Sched != nil {
		s.cfg.Sched.Block(func() bool { return closed(ch) })
		return
	}
	<-ch
}

// lockOp takes the session's lock (one message at a time): under a
// Scheduler the task parks while another task holds it.
func (c *conn) lockOp() {
	sch := c.s.cfg.Sched
	if sch == nil {
		c.opMu.Lock()
		return
	}
	for !c.opMu.TryLock() {
		sch.Block(func() bool {
			if c.opMu.TryLock() {
				c.opMu.Unlock()
				return true
			}
			return false
		})
	}
}

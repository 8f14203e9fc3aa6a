package simtest

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// The scheduler: every part of the system runs as a task, a goroutine that
// runs only while the driver (Sim.run) waits for it, so exactly one runs
// at a time, and the seed alone decides which. A task runs until it
// parks (Block: it waits for a frame, a commit, a lock, a time) or ends;
// the driver then chooses the next step. Production code is unchanged:
// the server and the agent take this scheduler as their Scheduler
// (server.Config.Sched, agent.SyncOptions.Sched) and park through it
// wherever they would otherwise wait on a goroutine, a channel or a timer.
//
// A process (proc) groups the tasks of one server or one laptop's
// agent. A crash kills the process: its tasks never run again; each is
// resumed once to unwind (runtime.Goexit runs its deferred calls, against
// database handles already closed, so nothing it does after the crash
// reaches a file).

type proc struct {
	name string
	dead bool
}

type task struct {
	id      int
	name    string
	proc    *proc
	fn      func()
	ready   func() bool // nil: runnable
	wake    chan struct{}
	started bool
	done    bool
	w       *worker // the goroutine that runs it
}

type timer struct {
	id   int
	at   time.Time
	proc *proc
	name string
	fn   func()
	gone bool
}

type sched struct {
	now     time.Time
	draw    func(n int) int // the schedule's choices (chooser.intn)
	tasks   []*task         // live tasks in creation order
	timers  []*timer
	nextID  int
	cur     *task
	yield   chan struct{}
	panics  []string
	stepped int // task runs
	// procFor is the process a task started outside any task (the
	// driver) belongs to.
	procFor *proc
	// watchdog bounds how long a task may run before it parks: longer
	// means it blocked on something the scheduler does not see (a real
	// lock, a channel), which would hang the run.
	watchdog time.Duration
	// wedged: a task outran the watchdog and may still be running. No
	// task is woken again (run and kill return at once): waking another
	// while it runs would break "one at a time", and waiting for it to
	// park may wait for ever, as the teardown after the failure did
	// (stop 33: a worker of a long run hung there).
	wedged bool
	// idle are the goroutines whose task ended, waiting for another
	// (spawn): a task's calls into SQLite grow a goroutine's stack to
	// tens of kilobytes, and a new goroutine for each of a schedule's
	// hundreds of tasks grew one each time, copying it at every doubling
	// (a fiftieth of the CPU).
	idle []*worker
}

// worker is a goroutine that runs tasks one after the other.
type worker struct {
	next chan *task
	goid string // its goroutine's number, as runtime.Stack prints it
}

func newSched(start time.Time, draw func(int) int) *sched {
	return &sched{now: start, draw: draw, yield: make(chan struct{}), watchdog: 20 * time.Second}
}

// Go starts f as a task of the calling task's process (server.Scheduler).
func (s *sched) Go(name string, f func()) {
	p := s.procFor
	if s.cur != nil {
		p = s.cur.proc
	}
	s.spawn(p, name, f)
}

func (s *sched) spawn(p *proc, name string, f func()) *task {
	s.nextID++
	t := &task{id: s.nextID, name: name, proc: p, fn: f, wake: make(chan struct{})}
	s.tasks = append(s.tasks, t)
	if n := len(s.idle); n > 0 {
		w := s.idle[n-1]
		s.idle = s.idle[:n-1]
		t.w = w
		w.next <- t
	} else {
		w := &worker{next: make(chan *task, 1), goid: "?"}
		t.w = w
		w.next <- t
		started := make(chan struct{})
		go s.work(w, started)
		<-started // its number known before the driver may look for it
	}
	return t
}

// work runs the tasks handed to w until stop closes its channel, or a
// task exits the goroutine (runtime.Goexit: a crashed process's task).
func (s *sched) work(w *worker, started chan<- struct{}) {
	w.goid = goroutineID()
	close(started)
	for t := range w.next {
		s.body(t, w)
	}
}

func (s *sched) body(t *task, w *worker) {
	<-t.wake
	ended := false // f returned or panicked; not so on runtime.Goexit
	defer func() {
		if r := recover(); r != nil {
			s.panics = append(s.panics, fmt.Sprintf("task %s panicked: %v\n%s", t.name, r, debug.Stack()))
			ended = true
		}
		t.done = true
		s.cur = nil
		if ended {
			// While the driver waits for the yield below: only one
			// goroutine runs.
			s.idle = append(s.idle, w)
		}
		s.yield <- struct{}{}
	}()
	if t.proc.dead {
		runtime.Goexit()
	}
	f := t.fn
	t.fn = nil
	f()
	ended = true
}

// stop ends the idle goroutines (the world's teardown).
func (s *sched) stop() {
	for _, w := range s.idle {
		close(w.next)
	}
	s.idle = nil
}

// Block parks the calling task until ready (server.Scheduler and
// agent.Scheduler).
func (s *sched) Block(ready func() bool) {
	t := s.cur
	if t == nil {
		panic("simtest: Block outside a task")
	}
	if t.proc.dead {
		runtime.Goexit() // unwinding after a crash: never wait again
	}
	t.ready = ready
	s.cur = nil
	s.yield <- struct{}{}
	<-t.wake
	if t.proc.dead {
		runtime.Goexit()
	}
}

// Now is the simulation's true time.
func (s *sched) Now() time.Time { return s.now }

// Int64N draws from the schedule, to the millisecond (the agent's jitter).
func (s *sched) Int64N(n int64) int64 {
	ms := n / int64(time.Millisecond)
	if ms <= 1 {
		return 0
	}
	return int64(s.draw(int(min(ms, 1<<30)))) * int64(time.Millisecond)
}

// AfterFunc runs f as a task of the calling process once d has passed.
func (s *sched) AfterFunc(d time.Duration, f func()) func() bool {
	p := s.procFor
	if s.cur != nil {
		p = s.cur.proc
	}
	s.nextID++
	tm := &timer{id: s.nextID, at: s.now.Add(d), proc: p, fn: f, name: "timer"}
	s.timers = append(s.timers, tm)
	return func() bool {
		if tm.gone {
			return false
		}
		tm.gone = true
		s.timers = slices.DeleteFunc(s.timers, func(x *timer) bool { return x == tm })
		return true
	}
}

// runnable reports whether t may run now.
func (t *task) runnable() bool {
	return !t.done && (t.ready == nil || t.ready())
}

// runnableTasks lists the tasks that may run, in creation order.
func (s *sched) runnableTasks(buf []*task) []*task {
	buf = buf[:0]
	for _, t := range s.tasks {
		if t.runnable() {
			buf = append(buf, t)
		}
	}
	return buf
}

// run runs t until it parks or ends.
func (s *sched) run(t *task) {
	if s.wedged {
		return
	}
	s.cur = t
	t.started = true
	t.ready = nil
	s.stepped++
	t.wake <- struct{}{}
	if s.watchdog <= 0 {
		<-s.yield
	} else {
		wd := time.NewTimer(s.watchdog)
		waited := time.Duration(0)
	wait:
		for {
			select {
			case <-s.yield:
				wd.Stop()
				break wait
			case <-wd.C:
				select {
				case <-s.yield: // it parked as the timer fired
					break wait
				default:
				}
				waited += s.watchdog
				// A task still running (a process starved of CPU
				// beside a busy make test, or stopped by SIGSTOP and
				// continued) is not blocked: only a task that waits
				// on what the scheduler does not see fails here, the
				// watchdog's wall time alone being no proof (helper
				// 230: two runs at nice 19 under a load of 9 failed
				// so, and passed again).
				if state := goroutineState(t.w.goid); working(state) && waited < s.watchdog*maxWatchdogs {
					wd.Reset(s.watchdog)
					continue
				}
				s.wedged = true
				panic(fmt.Sprintf("simtest: task %s ran %s without parking: it blocks on something the scheduler does not see\n%s",
					t.name, waited, allStacks()))
			}
		}
	}
	if t.done {
		s.tasks = slices.DeleteFunc(s.tasks, func(x *task) bool { return x == t })
	}
}

// kill crashes p: its tasks unwind and never run again; its timers go.
func (s *sched) kill(p *proc) {
	p.dead = true
	s.timers = slices.DeleteFunc(s.timers, func(tm *timer) bool { return tm.proc == p })
	for _, t := range slices.Clone(s.tasks) {
		if t.proc == p && !t.done {
			s.run(t)
		}
	}
}

// due fires the timers whose time has come, as tasks.
func (s *sched) fireTimers() {
	for {
		i := -1
		for j, tm := range s.timers {
			if !tm.at.After(s.now) && (i < 0 || tm.at.Before(s.timers[i].at)) {
				i = j
			}
		}
		if i < 0 {
			return
		}
		tm := s.timers[i]
		tm.gone = true
		s.timers = slices.Delete(s.timers, i, i+1)
		s.spawn(tm.proc, tm.name, tm.fn)
	}
}

// nextTimer is the earliest timer's time (zero: none).
func (s *sched) nextTimer() time.Time {
	var at time.Time
	for _, tm := range s.timers {
		if at.IsZero() || tm.at.Before(at) {
			at = tm.at
		}
	}
	return at
}

// maxWatchdogs bounds how many watchdog periods a task that keeps running
// (a loop that never parks) is given before it fails all the same.
const maxWatchdogs = 15

// goroutineID is the calling goroutine's number, as runtime.Stack prints
// it ("goroutine 42 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// goroutineState is the state runtime.Stack prints for goroutine id
// ("running", "chan receive", "sleep", …), "" if it is not found.
func goroutineState(id string) string {
	st := stacks()
	head := "goroutine " + id + " ["
	i := strings.Index(st, head)
	if i < 0 {
		return ""
	}
	rest := st[i+len(head):]
	end := strings.IndexAny(rest, ",]")
	if end < 0 {
		return ""
	}
	return rest[:end]
}

// working: a goroutine in this state is computing or in a system call
// (SQLite reading its file), not waiting for another goroutine.
func working(state string) bool {
	switch state {
	case "running", "runnable", "syscall", "preempted", "GC assist wait", "GC assist marking", "copystack":
		return true
	}
	return false
}

// stacks is every goroutine's stack, as runtime.Stack prints them.
func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func allStacks() string {
	st := stacks()
	if len(st) > 20000 {
		st = st[:20000] + "\n…"
	}
	return strings.TrimSpace(st)
}

package simtest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
)

// scripted runs f in a world of one server and two laptops that no seed
// drives: the test makes every step itself, through the real server and
// agent on the simulation's network and clock. A Failure f raises (s.fail)
// fails the test with its text.
func scripted(t *testing.T, f func(s *Sim)) {
	t.Helper()
	cfg := Config{Seed: 1, Laptops: 2}
	if testing.Verbose() {
		cfg.Trace = os.Stdout
	}
	s := &Sim{cfg: cfg, ch: newChooser(cfg.Seed, nil), start: simStart, ctx: context.Background()}
	s.sch = newSched(simStart, s.ch.intn)
	s.tr = &tracer{live: cfg.Trace, start: simStart, step: &s.step, now: s.sch.Now}
	s.model = newModel()
	s.log = slog.New(slog.DiscardHandler)
	defer s.teardown()
	var failure *Failure
	func() {
		defer func() {
			if r := recover(); r != nil {
				if fl, ok := r.(*Failure); ok {
					failure = fl
					return
				}
				panic(r)
			}
		}()
		if err := s.setup(); err != nil {
			s.fail("setup: %v", err)
		}
		f(s)
	}()
	if failure != nil {
		t.Fatal(failure.What)
	}
}

// TestWatchAfterStalledLinkTimesOut: a watch session idle on a link that
// stalls (a partition) must end at its read deadline, reconnect, and stop
// when its volunteer stops it. Under a Scheduler the agent's read moved the
// deadline it had just passed and parked again inside the connection,
// where neither its context nor its poll could reach it; once the link
// carried frames again nothing came, so the laptop pushed nothing more and
// its watch never ended (issue 17: "L2's sync does not end", silent seeds
// 6315, 7263, 9675 and 16915 of the 20,000-schedule run).
func TestWatchAfterStalledLinkTimesOut(t *testing.T) {
	scripted(t, func(s *Sim) {
		l := s.laptops[0]
		s.startSync(l, true)
		s.settleAll() // the watch has pulled and waits, idle
		watch := l.session
		if watch == nil || watch.done {
			s.fail("%s's watch is not running", l.name)
		}
		// The link stalls past the agent's read deadline (30 s; the
		// server's is 60 s), the watch wakes, and the link comes back.
		stalled := 0
		for _, lk := range s.links {
			if lk.name == l.name && lk.live() {
				lk.stall = true
				stalled++
			}
		}
		if stalled == 0 {
			s.fail("%s's watch has no link to stall", l.name)
		}
		s.advance(31 * time.Second)
		s.settleAll()
		for _, lk := range s.links {
			lk.stall = false
		}
		s.settleAll()

		// The volunteer adds a household: the watch pushes it within a
		// minute of simulated time (its poll is every 3 s, its backoff
		// at most a minute).
		var id uuid.UUID
		s.call(l.proc, "add a household", func() {
			rep := l.rep
			e, err := rep.Enrollment(s.ctx)
			if err != nil || e == nil || len(e.Scope) == 0 {
				s.violation("%s has no scope to write in: %v", l.name, err)
				return
			}
			id, err = rep.AddHousehold(s.ctx, householdFields(rep, e.Scope[0].Code, 7, true))
			if err != nil {
				s.violation("%s adds a household: %v", l.name, err)
			}
		})
		s.checkPanics()
		held := func() bool {
			srvDB, done, err := s.serverRO()
			if err != nil {
				s.fail("open the server's store to look: %v", err)
			}
			defer done()
			var n int
			if err := srvDB.QueryRowContext(s.ctx, rebind(s.pg != nil, `SELECT count(*) FROM sync_rows WHERE tbl = 'households' AND row = ?`), id[:]).Scan(&n); err != nil {
				s.fail("read the server's rows: %v", err)
			}
			return n > 0
		}
		for sec := 0; !held(); sec++ {
			if sec == 120 {
				s.fail("%s's watch, idle on a link that stalled past its read deadline and came back, pushed nothing in %d s: household %s is not on the server", l.name, sec, short(id))
			}
			s.advance(time.Second)
			s.settleAll()
		}

		// The volunteer stops the watch: it ends.
		l.cancel()
		l.cancel = nil
		w := l.session
		if w == nil {
			return
		}
		if !s.settleTask(w, 1000) {
			s.fail("%s's watch, stopped by its volunteer, does not end", l.name)
		}
	})
}

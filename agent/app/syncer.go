package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
)

// syncer runs the background sync: agent.Replica.Watch while the laptop
// is enrolled, restarted at once when the volunteer asks ("sync now") or
// enrolls, and what it last did for the pages to show.
type syncer struct {
	a       *App
	kick    chan struct{}
	recheck time.Duration // how often a stopped or unenrolled sync looks for a change
	// lookedAgain: a sync stopped on the marker of a file since replaced
	// was started again (changedSince), once: owned by run.
	lookedAgain bool

	mu sync.Mutex
	st syncState

	roster sync.WaitGroup // roster fetches in flight, owned by run
}

// syncState is what the pages show of the sync.
type syncState struct {
	Phase     string // "", "waiting" (not enrolled), "connecting", "online", "offline", "stopped"
	Busy      bool   // pushing or pulling now
	Progress  agent.Progress
	LastOK    time.Time // the end of the last sync cycle that succeeded
	Err       error     // the last failure (offline, stopped)
	ErrAt     time.Time
	Pushed    int // since the app started
	Pulled    int
	Conflicts int
	Rejected  int
	Attempts  int // failed connections in a row
	// The photo transfer, beside the records (agent.SyncOptions.OnPhotos):
	// whether it runs now and how far, and why the last one left photos
	// waiting (nil once a transfer went through).
	PhotoBusy     bool
	PhotoProgress agent.Progress
	PhotoErr      error
	// Moved is the https:// address a sync moved to from the enrollment's
	// http:// one (agent.SyncSummary.ServerMoved): said on the sync page.
	Moved string
}

func newSyncer(a *App) *syncer {
	recheck := a.cfg.recheck
	if recheck <= 0 {
		recheck = 3 * time.Second
	}
	return &syncer{a: a, kick: make(chan struct{}, 1), recheck: recheck}
}

// kickNow restarts the sync at once: a Watch asleep between two attempts
// tries again now.
func (s *syncer) kickNow() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *syncer) state() syncState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *syncer) update(f func(*syncState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

// options are the app's sync options: the command's, with the app's
// defaults and callbacks.
func (s *syncer) options(server, token string) agent.SyncOptions {
	o := s.a.cfg.Sync
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second // a save reaches the server while the volunteer is still at the door
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		// The CLI waits up to 5 min; the app is in front of a person who
		// wants to see the sync happen once the network is back.
		o.MaxBackoff = time.Minute
	}
	if o.SaveToken == nil {
		o.SaveToken = func(t string) error { return agent.WriteToken(s.a.cfg.TokenPath, t) }
	}
	o.Progress = func(p agent.Progress) {
		if p.Phase == "photos" {
			// Photos travel beside the records' session: their progress
			// must not hold the records' "busy" after the transfer.
			s.update(func(st *syncState) { st.PhotoBusy, st.PhotoProgress = true, p })
			return
		}
		s.update(func(st *syncState) { st.Busy, st.Progress = true, p })
	}
	// A hamlet-agent sync command of this folder runs (agent/synclock.go):
	// the app's sync waits for it, and says so rather than the progress
	// of a session the command's cut.
	o.OnWait = func() {
		s.update(func(st *syncState) { st.Phase, st.Busy, st.Progress = "command", false, agent.Progress{} })
	}
	o.OnPhotos = func(ps agent.PhotoSummary, err error) {
		s.update(func(st *syncState) {
			st.PhotoBusy, st.PhotoProgress = false, agent.Progress{}
			st.PhotoErr = err
		})
		if err != nil {
			s.a.log.Info("photos wait", "pending", ps.Pending, "err", err)
		}
	}
	// What a sync tells that the volunteer must see (a hamlet gained or
	// lost, its records removed; a copied folder; changes the server had
	// lost) is kept among the notices the sync page shows until she
	// reads them, in the transaction that forgets the notes it was told
	// from (agent.Replica.Told): forgotten by the sync before the app
	// held it, it was shown on no page, and the app closed meanwhile lost
	// it for good.
	o.ForgetsTold = true
	// The roster is fetched once a session (its first summary, after a
	// connection lost or the app started), as sync --watch does: after
	// every teammate's change pulled while the session idles, it cost a
	// request and the team's whole roster each, on a metered link, in no
	// summary's bytes. A conflict still fetches it (it names the other
	// writer), and so does a roster old or lacking a hamlet's name
	// (NeedsRoster).
	fresh := true
	o.OnSync = func(sum agent.SyncSummary, err error) {
		if err == nil {
			// The notice kept is of what this process takes to tell: a note
			// the command line's sync, run at the same moment, printed
			// first is not kept again (Told).
			if _, terr := s.a.r.Told(context.Background(), sum, true); terr != nil {
				s.a.log.Warn("sync notices not kept; the next sync tells them again", "err", terr)
			}
		}
		if sum.ServerMoved != "" {
			server = sum.ServerMoved // the roster, too, is fetched there from now on
		}
		now := time.Now()
		s.update(func(st *syncState) {
			st.Busy, st.Progress = false, agent.Progress{}
			if err != nil {
				st.Phase, st.Err, st.ErrAt = "offline", err, now
				st.Attempts++
				return
			}
			st.Phase, st.Err, st.LastOK, st.Attempts = "online", nil, now, 0
			if sum.ServerMoved != "" && !sum.ServerMovedOnce { // once: the enrollment changed meanwhile, nothing stored
				st.Moved = sum.ServerMoved
			}
			st.Pushed += sum.Pushed
			st.Pulled += sum.Pulled + sum.Cloned
			st.Conflicts += sum.Conflicts
			st.Rejected += sum.Rejected
		})
		if sum.Evicted > 0 || sum.Collected > 0 || sum.Cloned > 0 || sum.ScopeChange != nil || sum.Fork != nil {
			s.a.idx.invalidate() // rows left the tables, or were all read again
		}
		if err != nil {
			fresh = true // the next summary is a new session's
		} else if (fresh && sum.Pulled+sum.Cloned > 0) || sum.Conflicts > 0 || s.a.r.NeedsRoster(context.Background()) {
			fresh = false
			s.refreshRoster(server, token) // a hamlet gained comes by code: the roster names it
		}
	}
	return o
}

// refreshRoster fetches the team's names in the background: a teammate
// enrolled since the last fetch is named, not numbered, in the conflict
// that brought their first change.
func (s *syncer) refreshRoster(server, token string) {
	s.roster.Add(1)
	go func() {
		defer s.roster.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.a.r.RefreshRoster(ctx, server, token); err != nil {
			s.a.log.Debug("roster not refreshed", "err", err)
		}
	}()
}

// run owns the Watch goroutine: it stops it, and waits for it and for the
// roster fetches, before it returns.
func (s *syncer) run(ctx context.Context) {
	defer s.roster.Wait()
	for ctx.Err() == nil {
		en, err := s.a.r.Enrollment(ctx)
		if err != nil || en == nil {
			s.update(func(st *syncState) { st.Phase, st.Busy = "waiting", false })
			// Enrolled from the page (a kick) or by the CLI beside the app.
			if !s.waitFor(ctx, s.changed(ctx)) {
				return
			}
			continue
		}
		// A token a fork made and has not yet saved is taken from the
		// replica by Watch itself.
		token, err := agent.ReadToken(s.a.cfg.TokenPath)
		if err != nil {
			s.stopped(err)
			if !s.waitFor(ctx, s.changed(ctx)) {
				return
			}
			continue
		}
		s.update(func(st *syncState) {
			if st.Phase == "" || st.Phase == "waiting" || st.Phase == "stopped" {
				st.Phase = "connecting"
			}
		})
		s.refreshRoster(en.Server, token)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			err := s.a.r.Watch(wctx, en.Server, token, s.options(en.Server, token))
			// A transfer cut by the restart reports nothing: not "sending" any more.
			s.update(func(st *syncState) { st.PhotoBusy, st.PhotoProgress = false, agent.Progress{} })
			done <- err
		}()
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-s.kick:
			cancel()
			<-done
			s.update(func(st *syncState) {
				if st.Phase != "online" {
					st.Phase = "connecting"
				}
			})
		case err := <-done:
			cancel()
			if err == nil {
				err = errors.New("sync stopped")
			}
			// Watch returns only what needs a person: a revoked token, a
			// damaged file, a full disk. It waits for them: "sync now", or
			// a new enrollment or token (enroll again, here or by the CLI).
			s.stopped(err)
			if !s.waitFor(ctx, s.changedSince(ctx, err)) {
				return
			}
		}
	}
}

func (s *syncer) stopped(err error) {
	now := time.Now()
	s.update(func(st *syncState) { st.Phase, st.Busy, st.Err, st.ErrAt = "stopped", false, err, now })
	s.a.log.Warn("sync stopped", "err", err)
}

// waitFor sleeps until a kick (enrollment, "sync now"), until changed
// reports true (checked every few seconds), or until ctx's end.
func (s *syncer) waitFor(ctx context.Context, changed func() bool) bool {
	tick := time.NewTicker(s.recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.kick:
			return true
		case <-tick.C:
			if changed() {
				return true
			}
		}
	}
}

// changed notes the enrollment, the token and whether a repair replaced
// the replica file, as they are now, and tells whether any has changed
// since. A sync stopped on the file marked damaged is started again once
// the volunteer's repair replaced it, and stops at once saying what helps
// now (agent.ReplacedError: open the app again); waiting for a kick, the
// page said to run the repair just run, for as long as the app stayed
// open.
func (s *syncer) changed(ctx context.Context) func() bool {
	now := func() string {
		en, _ := s.a.r.Enrollment(ctx)
		tok, _ := agent.ReadToken(s.a.cfg.TokenPath)
		file := "opened"
		if s.a.r.Replaced() {
			file = "replaced"
		}
		if en == nil {
			return file + "\x00\x00" + tok
		}
		return file + "\x00" + en.DeviceID + "\x00" + en.Server + "\x00" + tok
	}
	was := now()
	return func() bool { return now() != was }
}

// changedSince is changed for a sync stopped on stop. A stop on the
// marker (a damaged *agent.FileError) while the file was being replaced
// saw the file as it was opened: a repair marks the file, works, puts its
// file in place and removes the marker, and the replacement can fall
// between the check that stopped the sync and the look changed takes
// after it (the session's close, the photos' transfer waited for). Noted
// as replaced already, it was no change, and the page said to run the
// repair just run for as long as the app stayed open (helper 235). Such a
// sync starts again at its next look; its check tells the file replaced
// (agent.ReplacedError, which it is not started again for), the
// replacement being checked before the marker. Once: whatever the next
// stop says, a replaced file stays replaced, and the sync is not started
// again every few seconds.
func (s *syncer) changedSince(ctx context.Context, stop error) func() bool {
	var fe *agent.FileError
	if !s.lookedAgain && errors.As(stop, &fe) && errors.Is(fe.Kind, agent.ErrCorrupt) && s.a.r.Replaced() {
		s.lookedAgain = true
		return func() bool { return true }
	}
	return s.changed(ctx)
}

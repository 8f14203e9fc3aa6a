package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// SyncOptions tunes Sync and Watch. The zero value is sensible.
type SyncOptions struct {
	// BatchSize is the number of changes per Push (2000; capped by the
	// server's MaxChanges).
	BatchSize int
	// Window is how many pushes may await their Ack at once (4).
	Window int
	// PullLimit caps changes per Changes message (0: server default).
	PullLimit uint32
	// IOTimeout bounds every read and write (30 s).
	IOTimeout time.Duration
	// TLS is used for https servers (nil: system roots).
	TLS *tls.Config
	// Progress, if set, is called after every pushed or pulled batch.
	Progress func(Progress)
	// OnSync, in Watch, is called after every sync cycle and every failed
	// connection attempt.
	OnSync func(SyncSummary, error)
	// Dial replaces the TCP dialer (tests put a proxy or a fault here).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxBackoff caps Watch's reconnect delay (5 min); MinBackoff starts it (1 s).
	MinBackoff, MaxBackoff time.Duration
	// PollInterval is how often Watch looks for local writes to push (3 s).
	PollInterval time.Duration
	// SnapshotLimit caps rows per snapshot chunk of a clone (0: server
	// default).
	SnapshotLimit uint32
	// BulkCloneRows is the smallest snapshot a first clone loads in bulk:
	// the row tables' indexes dropped, and built again after the last
	// chunk (0: 10,000 rows).
	BulkCloneRows uint64
	// LogReplay makes a first sync replay the server's log instead of
	// cloning by snapshot (slower; for comparisons and tests). A re-clone
	// the server asks for always uses a snapshot.
	LogReplay bool
	// OnPhotos, in Watch, is called after every photo transfer that had
	// something to do (photosync.go); photos travel beside the records'
	// session and never hold it up.
	OnPhotos func(PhotoSummary, error)
	// NoPhotos leaves photos out of Sync and Watch (records only).
	NoPhotos bool
	// SaveToken stores a new device token: the one a fork made (this data
	// folder turned out to be a copy, fork.go). Until it has, the token
	// stays in the replica file and is used from there (PendingToken).
	SaveToken func(token string) error
	// Frames, when set, opens a session's connection instead of dialing a
	// WebSocket: internal/simtest's in-memory network. It answers as
	// websocket.Dialer.DialContext does: the connection, or the HTTP
	// response that refused it, or an error.
	Frames func(ctx context.Context, url string, h http.Header) (FrameConn, *http.Response, error)
	// Sched, when set, runs the session as a task of a deterministic
	// simulation (sched.go). nil in production.
	Sched Scheduler
	// ForgetsTold: the caller forgets the notes a summary tells (an
	// earlier sync's back-fill, clone or hamlets lost: SyncSummary.told)
	// by Replica.Told, once it has shown the summary. Unset, a sync that
	// ends well forgets them itself before its summary is shown: a
	// process killed in between (the laptop's lid, the window closed, a
	// roster fetch on a stalled link) left them told to no one.
	ForgetsTold bool

	// OnWait, if set, is called once when Sync finds another sync
	// command of this data folder running and waits for it to end
	// (synclock.go): a command that waits without a word looks hung.
	// Watch calls it each time it begins to wait for one, and when it
	// begins to wait for another Watch of the folder (the app beside
	// sync --watch).
	OnWait func()

	// unlocked: Sync takes no sync lock (synclock.go). Tests only, for a
	// session that begins between another's look at the lock and its
	// connection, which the lock narrows to a moment but cannot rule out.
	unlocked bool
	// commandWait bounds Watch's wait for a sync command (10 min).
	commandWait time.Duration
}

func (o *SyncOptions) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	if o.Window <= 0 {
		o.Window = 4
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = 30 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 3 * time.Second
	}
}

// Progress is how far a sync is.
type Progress struct {
	Phase string `json:"phase"` // "push" or "pull"
	Done  int    `json:"done"`  // changes pushed, or log entries pulled
	Total int    `json:"total"` // best estimate, 0 if unknown
	// Rate (per second) and Remaining (the time left at that rate) are set
	// for a clone (Phase "clone": Done and Total count rows).
	Rate      float64       `json:"rate,omitempty"`
	Remaining time.Duration `json:"remaining_ns,omitempty"`
}

// SyncSummary is what one sync did.
type SyncSummary struct {
	Pushed        int           `json:"pushed"`
	Pulled        int           `json:"pulled"`
	Conflicts     int           `json:"conflicts"`
	Rejected      int           `json:"rejected"`
	Evicted       int           `json:"evicted"`
	BytesSent     int64         `json:"bytes_sent"`
	BytesReceived int64         `json:"bytes_received"`
	RoundTrips    int           `json:"round_trips"`
	Duration      time.Duration `json:"duration_ns"`
	Offset        time.Duration `json:"clock_offset_ns,string"`
	ClockWarning  bool          `json:"clock_warning"`
	Scope         []string      `json:"scope"`
	// Collected is how many deleted rows every replica holds were dropped.
	Collected int `json:"collected,omitempty"`
	// ScopeChange is what a change of the team's hamlets did (scope.go).
	ScopeChange *ScopeChange `json:"scope_change,omitempty"`
	// Cloned is the rows stored by a snapshot clone.
	Cloned int `json:"cloned,omitempty"`
	// ClonedLive counts the rows of Cloned that are not deleted, by table:
	// what the volunteer now has on the laptop ("12 households, ...").
	ClonedLive map[string]int `json:"cloned_live,omitempty"`
	// CloneHeld, set when a clone ended in this sync, counts by table the
	// rows (not deleted) the laptop holds after it, and after the pull
	// that follows it. A clone cut by the
	// network is spread over several syncs and ClonedLive counts only
	// what the last one stored: the sync that ends it tells this, not
	// that part, as what is on the laptop.
	CloneHeld map[string]int `json:"clone_held,omitempty"`
	// CloneRows, set with CloneHeld, is how many rows the clone stored in
	// all, in this sync and the syncs it was cut in before: more than
	// Cloned when it was.
	CloneRows int `json:"clone_rows,omitempty"`
	// Fork is set when this data folder turned out to be a copy of
	// another and took a new replica id (fork.go).
	Fork *ForkInfo `json:"fork,omitempty"`
	// Photos is what the photo transfer after the records did (nil: it
	// had nothing to do).
	Photos *PhotoSummary `json:"photos,omitempty"`
	// Resent is how many changes the server had acknowledged and then
	// lost (restored from a backup) that this sync sent again
	// (resendLost).
	Resent int `json:"resent,omitempty"`
	// ServerMoved is the https:// address this sync moved to from the
	// enrollment's http:// one, which the server no longer answers
	// (https_move.go): the address from now on, said once. Set only
	// once a session there has run: in Watch, with the first summary of
	// a session there that did not fail.
	ServerMoved string `json:"server_moved,omitempty"`
	// ServerMovedOnce: the address synced with was the run's own
	// (--server), not the enrollment's: the sync followed the server to
	// ServerMoved for this run only, and nothing was stored.
	ServerMovedOnce bool `json:"server_moved_once,omitempty"`
	// told are the notes (agent_meta) of what this summary tells that an
	// earlier sync left untold: a back-fill (tellFilled) or a clone
	// (tellCloned) that ended in a sync cut afterwards. They are forgotten
	// only once the summary reaches the volunteer (recordSync): a sync
	// that fails after reading them (a photo on a full disk) prints its
	// error alone, and the next one tells them.
	told []toldNote
}

// toldNote is an agent_meta key and the value a summary told.
type toldNote struct {
	key   string
	value any
}

// Bytes is the total on the wire.
func (s SyncSummary) Bytes() int64 { return s.BytesSent + s.BytesReceived }

func (s *SyncSummary) add(o SyncSummary) {
	s.Pushed += o.Pushed
	s.Pulled += o.Pulled
	s.Conflicts += o.Conflicts
	s.Rejected += o.Rejected
	s.Evicted += o.Evicted
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.RoundTrips += o.RoundTrips
	s.Collected += o.Collected
	s.Resent = max(s.Resent, o.Resent) // each session tells the note's count, which grows (tellFork)
	s.Cloned += o.Cloned
	s.told = append(s.told, o.told...)
	for t, n := range o.ClonedLive {
		if s.ClonedLive == nil {
			s.ClonedLive = map[string]int{}
		}
		s.ClonedLive[t] += n
	}
	if o.CloneHeld != nil {
		s.CloneHeld, s.CloneRows = o.CloneHeld, o.CloneRows
	}
	s.Offset, s.ClockWarning, s.Scope = o.Offset, o.ClockWarning, o.Scope
	if o.ScopeChange != nil {
		s.ScopeChange = o.ScopeChange
	}
	if o.Fork != nil {
		s.Fork = o.Fork
	}
	if o.ServerMoved != "" {
		s.ServerMoved, s.ServerMovedOnce = o.ServerMoved, o.ServerMovedOnce
	}
}

// Sync pushes every pending change and pulls everything new, once. A
// dropped connection is retried a few times; what the server acknowledged
// is never sent again, and a pull resumes from its stored cursor.
func (r *Replica) Sync(ctx context.Context, server, token string, opts SyncOptions) (SyncSummary, error) {
	opts.defaults()
	var total SyncSummary
	// Never push from, or pull into, a damaged file: a file marked so
	// stops here; each session reads the whole file before it writes
	// records (syncRun.sound, damage.go).
	if err := r.markCheck(); err != nil {
		return total, err
	}
	token, err := r.takeToken(ctx, token, opts.SaveToken)
	if err != nil {
		return total, err
	}
	// One sync command of this folder at a time, and the app's sessions
	// out of its way while it runs (synclock.go): while its records'
	// sessions run, given back before the photos (below).
	release, locked, err := r.holdSyncLock(ctx, &opts)
	if err != nil {
		return total, err
	}
	release = sync.OnceFunc(release)
	defer release()
	start := opts.ioNow() // the wait for another command is not this sync's time
	forks, reclones, replaced := 0, 0, 0
	for attempt := 0; attempt < 3; attempt++ {
		var s SyncSummary
		err = r.session(ctx, server, token, opts, false, &s)
		total.add(s)
		if locked && sessionReplaced(err) && replaced < 2 {
			// The app's Watch looked at the lock just before this
			// command took it, and connected after: told its session was
			// replaced, it now sees the lock and waits (not a failed
			// attempt).
			replaced++
			attempt--
			if opts.sleep(ctx, opts.jitter(200*time.Millisecond)) != nil {
				err = ctx.Err()
				break
			}
			continue
		}
		var rd *RecloneDueError
		if errors.As(err, &rd) && reclones < 2 {
			// The log this replica would read was collected: the next
			// session clones again, at once (not a failed attempt).
			reclones++
			attempt--
			continue
		}
		if forkNeeded(err) && forks < 2 {
			// This folder is a copy: a new replica id, then the same sync
			// goes on under it (not a failed attempt).
			forks++
			attempt--
			if token, err = r.forkNow(ctx, server, token, &opts, &total); err != nil {
				break
			}
			continue
		}
		if to, stored, ok := r.movedToHTTPS(ctx, server, token, &opts, err); ok {
			// The server moved to https://: the same sync goes on there
			// (not a failed attempt).
			server, total.ServerMoved, total.ServerMovedOnce = to, to, !stored
			attempt--
			continue
		}
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
		if opts.sleep(ctx, opts.jitter(time.Duration(attempt+1)*200*time.Millisecond)) != nil {
			break
		}
	}
	// The photos travel over HTTP, outside any session: held through
	// their minutes on a village's link, the lock kept the app from
	// syncing the records saved meanwhile.
	release()
	if err == nil && !opts.NoPhotos {
		// The records are on the server: now their photos (a photo that
		// fails stays pending for the next sync and fails no record).
		if ps, perr := r.SyncPhotos(ctx, server, token, opts); perr != nil || ps.Wire > 0 {
			total.Photos = &ps
			if perr != nil && IsStoreError(perr) {
				err = perr
			}
		}
	}
	total.Duration = opts.ioNow().Sub(start)
	tellKept(err, total)
	r.recordSync(ctx, err, opts.told(&total))
	return total, r.explainRevoked(ctx, server, err) // revoked.go
}

// told is what recordSync forgets the notes of and trims to what this
// process tells (forgetTold): s itself, nil when the caller does it
// (ForgetsTold, Told).
func (o *SyncOptions) told(s *SyncSummary) *SyncSummary {
	if o.ForgetsTold {
		return nil
	}
	return s
}

// Told forgets the notes s told (SyncSummary.told), and returns s as this
// process is to tell it: for a caller that set SyncOptions.ForgetsTold,
// just before s reaches the volunteer. Another process on the same file
// (the command line's sync and the app's, at the same moment) may have
// read the same notes: the one whose transaction forgets a note tells it,
// and what that note told is taken out of the other's summary (forgetTold),
// so it is told once. keep: what the returned summary tells that she must
// see (noticeOf) is kept, in the same transaction, among the notices an
// interface shows until she has read them (Notices): the app, whose pages
// may be opened long after the sync. On an error, s is returned whole:
// told again by the next sync rather than not at all.
func (r *Replica) Told(ctx context.Context, s SyncSummary, keep bool) (SyncSummary, error) {
	if len(s.told) == 0 && (!keep || noticeOf(s) == nil) {
		return s, nil
	}
	// Even when ctx ended meanwhile (Ctrl+C just after the summary was
	// shown): the next sync would tell it again.
	var told SyncSummary
	err := r.inCounted(context.WithoutCancel(ctx), func(t *txn) error {
		var err error
		if told, err = t.forgetTold(s); err != nil {
			return err
		}
		if n := noticeOf(told); keep && n != nil {
			return t.keepNotice(*n, r.now())
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	return told, nil
}

// forgetTold deletes the notes s told, each only if unchanged since read,
// and returns s as the process that took them tells it: what a note told
// that this transaction did not delete is taken out (untell). Another
// process forgot it first, so told it; or wrote it again since (a hamlet
// lost meanwhile joins it), and the next sync tells it whole. Read outside
// any write transaction (tellLost and the others: a session's reads never
// wait for the other process's writer), a note may be in both processes'
// summaries; the delete, under BEGIN IMMEDIATE, is where exactly one of
// them takes it.
func (t *txn) forgetTold(s SyncSummary) (SyncSummary, error) {
	took := map[string]bool{}
	for _, n := range s.told {
		res, err := t.tx.ExecContext(t.ctx, `DELETE FROM agent_meta WHERE key = ? AND value = ?`, n.key, n.value)
		if err != nil {
			return s, fmt.Errorf("forget what the sync told: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return s, fmt.Errorf("forget what the sync told: %w", err)
		} else if k > 0 {
			took[n.key] = true
		}
	}
	for _, n := range s.told {
		if !took[n.key] {
			s.untell(n.key)
		}
	}
	s.told = nil
	return s, nil
}

// untell takes out of s what the note key told (tellForked, tellLost,
// tellFilled, tellCloned): another process tells it, or the next sync.
func (s *SyncSummary) untell(key string) {
	switch key {
	case metaForkUntold:
		s.Fork, s.Resent = nil, 0
	case metaCloneUntold:
		s.CloneHeld, s.CloneRows = nil, 0
	case metaLostUntold, metaFillUntold:
		if s.ScopeChange == nil {
			return
		}
		c := *s.ScopeChange // shared with other copies of the summary
		if key == metaLostUntold {
			c.Lost, c.Dropped, c.KeptEdits, c.LostPart = nil, 0, 0, false
		} else {
			c.Filled, c.FilledTotal, c.FilledPart = nil, 0, false
		}
		s.ScopeChange = &c
		if c.empty() && len(c.Filled) == 0 {
			s.ScopeChange = nil
		}
	}
}

// recordSync notes how the sync ended; one that ended well forgets, in
// the same transaction, the notes its summary told (SyncSummary.told),
// and trims told to what this process tells (forgetTold); told is nil
// when the caller forgets them once shown (ForgetsTold, Told).
func (r *Replica) recordSync(ctx context.Context, err error, told *SyncSummary) {
	if IsStoreError(err) {
		return // a damaged file takes no write; a full disk takes none either
	}
	if err == nil {
		// Even when ctx ended meanwhile (Ctrl+C during the photos, which
		// ends the sync well, its summary printed): the notes it told
		// are forgotten, or the next sync tells them again.
		ctx := context.WithoutCancel(ctx)
		var trimmed SyncSummary
		if rerr := r.inCounted(ctx, func(t *txn) error {
			if err := t.setMeta("last_sync", r.now().UnixMilli()); err != nil {
				return err
			}
			if told != nil {
				var err error
				if trimmed, err = t.forgetTold(*told); err != nil {
					return err
				}
			}
			return t.setMeta("last_sync_error", "")
		}); rerr == nil && told != nil {
			*told = trimmed
		}
	} else if ctx.Err() == nil {
		_ = setMeta(ctx, r.writer(), "last_sync_error", err.Error())
	}
}

// tellKept notes on a dropped connection's error what the sync did
// before the drop (sum), for its message.
func tellKept(err error, sum SyncSummary) {
	var ce *ConnectError
	if errors.As(err, &ce) && ce.Dropped {
		ce.Sent, ce.Cloned, ce.Pulled = sum.Pushed, sum.Cloned, sum.Pulled
	}
}

// retryable: worth another connection at once (a gap, a busy server, a
// dropped connection), as opposed to a refusal a person must fix.
func retryable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code.Retryable()
	}
	if se := httpsRefusal(err); se != nil {
		return se.Code.Retryable()
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return !ce.NotHamlet
	}
	var pe *syncproto.Error
	if errors.As(err, &pe) {
		return pe.Code.Retryable()
	}
	return !NeedsPerson(err) && !errors.Is(err, context.Canceled)
}

// fatal errors stop Watch: nothing will change without a person.
func fatal(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		switch se.Code {
		case syncproto.CodeUnauthorized, syncproto.CodeTokenRevoked, syncproto.CodeVersionMismatch:
			return true
		}
		return se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden
	}
	if se := httpsRefusal(err); se != nil {
		return fatal(se)
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce.NotHamlet
	}
	// A damaged file or a full disk: a person must repair it or free space.
	return NeedsPerson(err)
}

// StopsWatch: err stops sync --watch and the app's syncing (fatal), so it
// is not one to say "will retry" of.
func StopsWatch(err error) bool { return fatal(err) }

// httpsRefusal is the Hamlet server's refusal of the Hello that checked a
// move to https:// (movedToHTTPS: a ServerError read from the WebSocket,
// no HTTP status), or of its connection because this device's token was
// revoked (HTTP 403, token_revoked: only a Hamlet server that holds the
// token says so); nil for any other error. It is what a session there
// would have been refused with, and is as fatal or as retryable: an agent
// too old for the server, or revoked, stops sync --watch and the app as at
// the https:// address itself; storage busy for now is tried again.
func httpsRefusal(err error) *ServerError {
	var ce *ConnectError
	var se *ServerError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, errWantsHTTPS) || !errors.As(ce.HTTPSErr, &se) || (se.Status != 0 && se.Code != syncproto.CodeTokenRevoked) {
		return nil
	}
	return se
}

// Watch keeps syncing while ctx lives: it pulls when the server notifies,
// pushes local writes as they appear, and reconnects with exponential
// backoff and jitter after a lost connection. It returns nil when ctx is
// cancelled, or the error that needs a person (revoked token, wrong server).
func (r *Replica) Watch(ctx context.Context, server, token string, opts SyncOptions) error {
	opts.defaults()
	backoff := opts.MinBackoff
	token, err := r.takeToken(ctx, token, opts.SaveToken)
	if err != nil {
		return err
	}
	// One Watch of this folder at a time (synclock.go); the photos too
	// wait for it.
	releaseWatch, err := r.holdWatchLock(ctx, &opts)
	if err != nil {
		return nil // ctx ended
	}
	defer releaseWatch()
	// Photos beside the records' session, on connections of their own,
	// owned by this call (stopped and waited for when it returns).
	var tokens atomic.Pointer[string]
	tokens.Store(&token)
	stopPhotos := func() {}
	startPhotos := func(server string) {
		if opts.NoPhotos {
			return
		}
		pctx, stop := context.WithCancel(ctx)
		var pwg sync.WaitGroup
		pwg.Add(1)
		go func() { defer pwg.Done(); r.photoLoop(pctx, server, &tokens, opts) }()
		stopPhotos = func() { stop(); pwg.Wait() }
	}
	startPhotos(server)
	defer func() { stopPhotos() }()
	// A move to https:// (movedToHTTPS) is said with the first summary of
	// a session there that did not fail: said alone, before any session
	// ran there, it told the app the laptop was synced (online, a last
	// sync time) while nothing had synced yet. (A clone or a back-fill
	// that ended in a session cut afterwards is told likewise, by the next
	// session that ends well, from the replica: tellCloned, tellFilled.)
	var carry SyncSummary // what a session told with the next one that does not fail
	if onSync := opts.OnSync; onSync != nil {
		opts.OnSync = func(s SyncSummary, err error) {
			if err == nil && carry.ServerMoved != "" {
				s.ServerMoved, s.ServerMovedOnce = carry.ServerMoved, carry.ServerMovedOnce
				carry = SyncSummary{}
			}
			onSync(s, err)
		}
	}
	recloned := false
	for ctx.Err() == nil {
		// A session now would replace a sync command's (synclock.go).
		if r.waitForSyncCommand(ctx, &opts) != nil {
			return nil
		}
		start := opts.ioNow()
		var s SyncSummary
		err := r.markCheck()
		if err == nil {
			err = r.session(ctx, server, token, opts, true, &s)
		}
		if ctx.Err() != nil {
			return nil
		}
		if sessionReplaced(err) && r.syncCommandRuns() {
			// A sync command of this folder took the device's session:
			// no failure to tell; the next session waits for its end.
			continue
		}
		if errors.Is(err, errRemeasure) {
			continue // the clock is measured again before the push (clock.go)
		}
		var rd *RecloneDueError
		if errors.As(err, &rd) && !recloned {
			// The next session clones again, at once; a second refusal in
			// a row waits like any other failure.
			recloned = true
			continue
		}
		recloned = false
		if to, stored, ok := r.movedToHTTPS(ctx, server, token, &opts, err); ok {
			// The server moved to https://: from now on it is there, the
			// photos' connections too; said once, by the first session
			// there that does not fail (opts.OnSync, above).
			server = to
			carry.ServerMoved, carry.ServerMovedOnce = to, !stored
			stopPhotos()
			startPhotos(server)
			continue
		}
		if forkNeeded(err) {
			// The fork is told with what the session that asked for it
			// did, as Sync tells it: a server restored from a backup
			// (resendLost) asks for one, and its summary alone says
			// the changes it lost were sent again (Resent), not that
			// this folder is a copy.
			sum := s
			tok, ferr := r.forkNow(ctx, server, token, &opts, &sum)
			if ferr == nil {
				token = tok
				newTok := tok
				tokens.Store(&newTok)
				if opts.OnSync != nil {
					opts.OnSync(sum, nil)
				}
				continue
			}
			err = ferr
		}
		tellKept(err, s)
		r.recordSync(ctx, err, nil) // a session that ended well recorded itself (idle)
		if opts.OnSync != nil && err != nil {
			opts.OnSync(s, err)
		}
		if fatal(err) {
			return r.explainRevoked(ctx, server, err) // revoked.go
		}
		// A session that ended asking for a re-clone (rd, a second in a
		// row) is no progress, even when it cloned or lasted: the clone
		// it stored is to be done again. The first goes on at once
		// (recloned, above); a server that asks again after every clone
		// would otherwise have the laptop clone its whole scope again
		// every second.
		if rd == nil && (opts.ioNow().Sub(start) > time.Minute || s.Pushed+s.Pulled+s.Cloned > 0) {
			// The connection was healthy for a while, or it carried
			// something that stays (acknowledged, stored): the next one
			// goes on from there. On a link that drops every few seconds
			// each connection brings a part of a clone, and a wait doubled
			// after each left a commune's clone hours of waiting.
			backoff = opts.MinBackoff
		}
		if opts.sleep(ctx, opts.jitter(backoff)) != nil {
			return nil
		}
		backoff = min(backoff*2, opts.MaxBackoff)
	}
	return nil
}

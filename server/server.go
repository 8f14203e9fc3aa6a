package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hamlet-vn/hamlet/syncproto"
	"github.com/hamlet-vn/hamlet/workcal"
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	Addr    string // listen address for cmd/hamlet-server (default ":8750")
	MaxSkew time.Duration
	Logger  *slog.Logger
	Now     func() time.Time // nil = time.Now
	// TLSCert and TLSKey, when both set, make cmd/hamlet-server serve TLS.
	TLSCert, TLSKey string

	// Limits are the frame limits enforced on agents (default
	// syncproto.DefaultLimits).
	Limits syncproto.Limits
	// PullLimit caps changes per Changes message (default and maximum
	// Limits.MaxChanges; a page is also cut to fit MaxFrame and MaxDict).
	PullLimit int
	// LogTail is how many of the newest log entries are kept in memory to
	// answer pulls on a store this process alone writes (DefaultLogTail;
	// <0 none: every pull that finds something new reads the store).
	LogTail int
	// PingInterval is how often the server pings an agent (default 30s);
	// PongWait how long it waits for any frame or pong before it drops the
	// agent (default 60s: docs/PROTOCOL.md §2.2); WriteWait bounds every
	// write (default 10s). PongWait below PingInterval is raised to
	// 2×PingInterval, or every quiet agent would be dropped.
	PingInterval, PongWait, WriteWait time.Duration
	// HealthTimeout bounds /healthz's write probe (default 2s): a store
	// that does not commit a small write in time is reported unhealthy.
	HealthTimeout time.Duration
	// HelloWait is how long a new sync connection may take to send Hello
	// before it is closed (default 10s): a token cannot hold sockets that
	// never start a session.
	HelloWait time.Duration
	// RevokeCheck is how often open sessions are checked against the
	// store's revocations, so a device revoked by another process
	// (`hamlet-server device revoke`) is disconnected within it (default
	// 10s; <0 never). Revocations through this server's Admin act at once.
	RevokeCheck time.Duration
	// SendQueue is the outgoing queue per connection (default 8); an agent
	// that lets it fill is disconnected.
	SendQueue int
	// EnrollFailures is how many wrong codes one client address may try
	// before it must wait EnrollWindow for its next try, twice as long
	// after each further wrong code, up to 6×EnrollWindow (default 10, 10
	// minutes). Only the address that failed waits (throttle.go).
	EnrollFailures int
	EnrollWindow   time.Duration
	// FlushInterval is how often device activity is written (default 2s).
	FlushInterval time.Duration
	// GCInterval is how often tombstones are collected (default 1h; <0 never).
	GCInterval time.Duration
	// SilentAfter is how long a device may stay silent before it no longer
	// holds tombstone and log collection back (default DefaultSilentAfter,
	// 180 days; <0 never). Measured with Now.
	SilentAfter time.Duration
	// TruncateLog makes collection drop the whole log below every scope's
	// lowest durable cursor, not only superseded entries (GCOptions.Truncate):
	// devices behind the floor re-clone from the snapshot of rows. The
	// zero value keeps the log, but hamlet-server serve and gc turn it on
	// unless told otherwise (cmd/hamlet-server/gc.go); off only where an
	// agent that cannot clone is still in the field (it would pull a
	// truncated log from the start).
	TruncateLog bool
	// ShutdownGrace bounds how long Close waits for sessions (default 10s).
	ShutdownGrace time.Duration
	// Calendar is the working calendar field-report deadlines use (nil:
	// workcal.Default, Vietnam's computed public holidays and embedded
	// official schedules). The server works on a copy, to which it adds the
	// schedules imported into the store (holidays.go).
	Calendar *workcal.Calendar

	// MinAgentSchema is the oldest agent data schema this server syncs
	// with: schema.MinSupportedVersion by default, raised (never past
	// schema.Version) once every laptop has been updated. AgentUpdate says
	// where volunteers get hamlet-agent (a URL or a command): a refused
	// too-old agent is told it. See schema_compat.go.
	MinAgentSchema int
	AgentUpdate    string

	// Sched, when set, runs the server's concurrent work as tasks it
	// schedules (sched.go): internal/simtest's deterministic simulation.
	// nil in production.
	Sched Scheduler
	// NewID makes the ids of new devices, teams and members (uuid.New when
	// nil; a simulation's come from its seed).
	NewID func() uuid.UUID
	// MaxPhotoBytes bounds a stored photo (DefaultMaxPhotoBytes);
	// PhotoGrace is how long a photo no report names is kept before
	// collection removes it (DefaultPhotoGrace). See photos.go.
	MaxPhotoBytes int
	PhotoGrace    time.Duration
}

func (c *Config) defaults() {
	c.schemaDefaults()
	if c.Addr == "" {
		c.Addr = ":8750"
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = syncproto.DefaultMaxSkew
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = uuid.New
	}
	if c.Limits.MaxFrame == 0 {
		c.Limits = syncproto.DefaultLimits
	}
	if c.PullLimit <= 0 {
		c.PullLimit = c.Limits.MaxChanges
	}
	if c.PullLimit > c.Limits.MaxChanges {
		c.PullLimit = c.Limits.MaxChanges
	}
	if c.LogTail == 0 {
		c.LogTail = DefaultLogTail
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.PongWait <= 0 {
		c.PongWait = 60 * time.Second
	}
	if c.PongWait <= c.PingInterval {
		c.PongWait = 2 * c.PingInterval
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = 2 * time.Second
	}
	if c.HelloWait <= 0 {
		c.HelloWait = 10 * time.Second
	}
	if c.RevokeCheck == 0 {
		c.RevokeCheck = 10 * time.Second
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 8
	}
	if c.EnrollFailures <= 0 {
		c.EnrollFailures = 10
	}
	if c.EnrollWindow <= 0 {
		c.EnrollWindow = 10 * time.Minute
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 2 * time.Second
	}
	if c.GCInterval == 0 {
		c.GCInterval = time.Hour
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = DefaultSilentAfter
	}
	if c.MaxPhotoBytes <= 0 {
		c.MaxPhotoBytes = DefaultMaxPhotoBytes
	}
	if c.PhotoGrace <= 0 {
		c.PhotoGrace = DefaultPhotoGrace
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	// Each server puts the store's holiday schedules in force on its own
	// calendar (holidays.go).
	if c.Calendar == nil {
		c.Calendar = workcal.Default()
	} else {
		c.Calendar = c.Calendar.Clone()
	}
}

// Server is the sync hub. Open it, serve Handler, Close it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   Store
	clock   *syncproto.Clock
	id      syncproto.ReplicaID
	epoch   uint64              // Welcome.LogEpoch: the log restored from a backup, if not 0 (store LogEpoch)
	writer  syncproto.ReplicaID // its own writes' replica: syncproto.ServerWriter(id, epoch), new at each restore; id stays its identity
	metrics *metrics
	hub     *hub
	shared  bool // other processes commit to the store too (CommitFeed)
	// enrollTh throttles wrong enrollment codes per client address;
	// loginPair wrong passwords per account and address, loginAddr per
	// address over all accounts (throttle.go, users.go).
	enrollTh, loginPair, loginAddr *throttle
	up                             websocket.Upgrader

	ctx    context.Context // ends when Close starts
	cancel context.CancelFunc

	mu       sync.Mutex // guards closing and wg.Add
	closing  bool
	wg       sync.WaitGroup // sessions and HTTP handlers
	bg       sync.WaitGroup // background loops
	closed   chan struct{}
	closeErr error
	once     sync.Once

	actMu sync.Mutex
	act   map[string]DeviceActivity
	// flushMu is held by flushActivity from taking act to writing it: a
	// flush waits for the one in flight (flushActivity).
	flushMu sync.Mutex
	// synced is, per device, noteSynced's time (under actMu).
	synced map[string]time.Time

	pushQ      chan *writeReq
	group      []*writeReq   // the committer's, reused
	commitStop chan struct{} // closed by Close after the sessions ended
	commitDone chan struct{} // closed when the committer returned

	rm     readModel   // the leaders' read model (readmodel.go)
	health healthState // /healthz (health.go)

	holMu sync.Mutex // guards holMark
	// uploading holds the photo upload under way for each digest
	// (takeOverUpload): a client back after a cut asks where to resume
	// while the cut request may still be storing what reached it.
	uploading sync.Map // uploadKey(device, digest) -> *uploadRun
	holMark   []int64  // the store's schedules last put in force (holidays.go)
	// blobsDown is what the photo store's last failure to write said
	// (photostore.go): uploads are refused before their bytes while it
	// lasts.
	blobsDown blobsDown
}

// OpenWithStore runs a Server on st, which the caller opened (cmd's
// openStore chooses SQLite or PostgreSQL; tests use servertest), and starts
// the background loops (activity flush, tombstone GC). The Server owns st
// from then on: Close closes it, and so does a failed OpenWithStore.
func OpenWithStore(ctx context.Context, cfg Config, st Store) (*Server, error) {
	cfg.defaults()
	return newServer(ctx, cfg, st)
}

func newServer(ctx context.Context, cfg Config, st Store) (*Server, error) {
	id, err := st.ServerID(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open server: %w", err)
	}
	epoch, err := st.LogEpoch(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open server: %w", err)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, store: st, id: id, epoch: epoch, writer: syncproto.ServerWriter(id, epoch),
		clock:     syncproto.NewClock(cfg.Now, cfg.MaxSkew),
		metrics:   newMetrics(),
		hub:       newHub(cfg.LogTail),
		enrollTh:  newThrottle(cfg.EnrollFailures, cfg.EnrollWindow, 6*cfg.EnrollWindow, 6*cfg.EnrollWindow, throttleCap),
		loginPair: newThrottle(loginFailures, loginDelay, loginMaxDelay, loginForget, throttleCap),
		loginAddr: newThrottle(loginAddrFailures, loginDelay, loginMaxDelay, loginForget, throttleCap),
		closed:    make(chan struct{}),
		act:       map[string]DeviceActivity{},
		synced:    map[string]time.Time{},

		pushQ:      make(chan *writeReq, pushQueue(cfg)),
		commitStop: make(chan struct{}),
		commitDone: make(chan struct{}),
	}
	s.shared = st.Shared()
	if s.shared {
		s.hub.tail.max = 0 // other processes' entries never reach it
	}
	if err := st.FeedCommits(s.onCommit); err != nil {
		st.Close()
		return nil, fmt.Errorf("open server: %w", err)
	}
	if _, err := s.loadHolidays(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open server: %w", err)
	}
	s.goTask("committer", s.committer)
	s.up = websocket.Upgrader{
		ReadBufferSize:    2048,
		WriteBufferSize:   2048,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: true,
		HandshakeTimeout:  10 * time.Second,
		// Agents are not browsers; a browser page cannot set the bearer
		// header, so an Origin check adds nothing here.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Sched == nil { // a Scheduler runs the jobs itself (RunJob)
		s.bg.Add(1)
		go s.background()
	}
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Now is the server's clock (Config.Now).
func (s *Server) Now() time.Time { return s.cfg.Now() }

// ID is the server's replica id.
func (s *Server) ID() syncproto.ReplicaID { return s.id }

// LogEpoch is the epoch of the log this server serves (Welcome.LogEpoch):
// 0 unless the store was restored from a backup.
func (s *Server) LogEpoch() uint64 { return s.epoch }

// Config is the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Admin returns the operator's API.
func (s *Server) Admin() *Admin { return &Admin{s: s} }

// Mount adds the core's routes to mux: /v1/enroll, /v1/sync, /v1/roster,
// /v1/fork, /healthz and /metrics. The JSON API (server/api) and the
// dashboard (server/dashboard) mount theirs beside them; server/httpapp
// composes the three, as hamlet-server serves them.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/enroll", s.Track(s.handleEnroll))
	mux.HandleFunc("GET /v1/sync", s.Track(s.handleSync))
	mux.HandleFunc("GET /v1/roster", s.Track(s.handleRoster)) // roster.go
	mux.HandleFunc("POST /v1/fork", s.Track(s.handleFork))    // fork_http.go
	// Photos of field reports (photos.go, docs/PROTOCOL.md §19).
	mux.HandleFunc("GET /v1/photos/{digest}/upload", s.Track(s.handleUploadState))
	mux.HandleFunc("PUT /v1/photos/{digest}", s.Track(s.handleUpload))
	mux.HandleFunc("GET /v1/photos/{digest}", s.Track(s.handlePhoto(false)))
	mux.HandleFunc("GET /v1/photos/{digest}/thumb", s.Track(s.handlePhoto(true)))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
}

// hstsMaxAge is a year: a browser that once reached the dashboard over
// TLS never again sends a password in the clear to it. Not for
// subdomains: the server may sit under a domain whose other sites it does
// not speak for.
const hstsMaxAge = "max-age=31536000"

// SecurityHeader is what every response carries (server/httpapp sets it
// on all of them; the WebSocket upgrade's 101, written outside the
// ResponseWriter's header map, gets it here): nosniff, and under TLS
// (IsHTTPS) HSTS.
func SecurityHeader(r *http.Request) http.Header {
	h := http.Header{"X-Content-Type-Options": {"nosniff"}}
	if IsHTTPS(r) {
		h.Set("Strict-Transport-Security", hstsMaxAge)
	}
	return h
}

// Track counts a handler in wg so Close waits for it, and refuses new work
// once Close has started. Every handler of the server's routes, the API's
// and the dashboard's, runs under it.
func (s *Server) Track(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			WriteHTTPError(w, errShuttingDown)
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		h(w, r)
	}
}

// Close stops the server gracefully: new requests are refused; each session
// finishes the batch it is applying (its Ack is sent), is told
// shutting_down and closed; device activity is flushed; the store closed.
// It is safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.cancel()
		for _, c := range s.hub.all() {
			c.shutdown()
		}
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(s.cfg.ShutdownGrace):
			s.log.Warn("sessions did not end in time; closing them", LogDuration, s.cfg.ShutdownGrace)
			for _, c := range s.hub.all() {
				c.ws.Close()
			}
			<-done
		}
		close(s.commitStop)
		<-s.commitDone
		s.bg.Wait()
		s.flushActivity(context.Background())
		s.closeErr = s.store.Close()
		close(s.closed)
	})
	<-s.closed
	return s.closeErr
}

func (s *Server) background() {
	defer s.bg.Done()
	flush := time.NewTicker(s.cfg.FlushInterval)
	defer flush.Stop()
	var gcC <-chan time.Time
	if s.cfg.GCInterval > 0 {
		gc := time.NewTicker(s.cfg.GCInterval)
		defer gc.Stop()
		gcC = gc.C
	}
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	var revC <-chan time.Time
	if s.cfg.RevokeCheck > 0 {
		rev := time.NewTicker(s.cfg.RevokeCheck)
		defer rev.Stop()
		revC = rev.C
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-flush.C:
			s.RunJob(s.ctx, JobFlush)
		case <-sweep.C:
			s.RunJob(s.ctx, JobSweep)
		case <-revC:
			s.RunJob(s.ctx, JobCheck)
		case <-gcC:
			s.RunJob(s.ctx, JobGC)
		}
	}
}

// Job is one of the server's periodic jobs (background).
type Job int

const (
	JobFlush Job = iota // write device activity (Config.FlushInterval)
	JobSweep            // forget old throttle entries (every minute)
	JobCheck            // revocations, team scopes and holidays changed by another process (Config.RevokeCheck)
	JobGC               // collection (Config.GCInterval)
)

// RunJob runs one periodic job now: the background loop's ticks, or a
// Scheduler's caller (Config.Sched), which starts no background loop.
func (s *Server) RunJob(ctx context.Context, j Job) {
	switch j {
	case JobFlush:
		s.flushActivity(ctx)
	case JobSweep:
		now := s.now()
		for _, t := range []*throttle{s.enrollTh, s.loginPair, s.loginAddr} {
			t.sweep(now)
		}
	case JobCheck:
		s.checkRevoked(ctx)
		s.checkScopes(ctx)
		s.checkHolidays(ctx)
		s.checkForeign(ctx)
	case JobGC:
		st, err := s.GC(ctx)
		if err != nil {
			s.log.Error("tombstone gc failed", LogErr, err)
			return
		}
		if st.Rows+st.Entries > 0 {
			s.log.Info("tombstone gc", "rows", st.Rows, "entries", st.Entries, "superseded", st.Superseded)
		}
		ps, err := s.CollectPhotos(ctx)
		if err != nil {
			s.log.Error("photo collection failed", LogErr, err)
			return
		}
		if ps.Collected+ps.Uploads+ps.Marked > 0 {
			s.log.Info("photo collection", "collected", ps.Collected, "uploads", ps.Uploads, "marked", ps.Marked)
		}
	}
}

// checkRevoked ends the sessions of devices revoked in the store since
// they connected (by another process: the operator's CLI opens the
// database directly).
func (s *Server) checkRevoked(ctx context.Context) {
	conns := s.hub.all()
	if len(conns) == 0 {
		return
	}
	devs, err := s.store.Devices(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("check revoked devices", LogErr, err)
		}
		return
	}
	revoked := make(map[string]bool)
	for _, d := range devs {
		if d.Revoked != nil {
			revoked[d.ID] = true
		}
	}
	for _, c := range conns {
		if revoked[c.dev.ID] {
			s.log.Info("device revoked elsewhere; closing its session", LogDevice, c.dev.ID)
			s.goTask("revoked", func() { c.fail(errRevoked) }) // waits for the message in hand
		}
	}
}

func (s *Server) noteActivity(deviceID string, cursor *uint64) {
	s.actMu.Lock()
	a := s.act[deviceID]
	a.DeviceID, a.At = deviceID, s.now()
	if cursor != nil {
		c := *cursor
		a.Cursor = &c
	}
	s.act[deviceID] = a
	s.actMu.Unlock()
}

// lastSynced is when the device's latest session that pushed everything
// it held began (noteSynced): no change it pushes later was made before
// that (scope.go, madeAt). Zero when this process saw none.
func (s *Server) lastSynced(deviceID string) time.Time {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	return s.synced[deviceID]
}

// noteSynced records that the device's session that began at began
// pushed everything it held then: it pulls only after pushing
// (docs/PROTOCOL.md §15). Kept in memory only, so after a restart, or for
// a session served by another process, the server knows less and trusts
// the change's HLC more, never the other way.
func (s *Server) noteSynced(deviceID string, began time.Time) {
	s.actMu.Lock()
	if began.After(s.synced[deviceID]) {
		s.synced[deviceID] = began
	}
	s.actMu.Unlock()
}

// flushActivity writes the device activity noted in memory. When it
// returns, every activity noted before it began is in the store: a flush
// already in flight (the periodic one, an operator listing devices) took
// some of it out of memory before this one, and this one waits for it to
// be written. Collection (GC) and the device list read the store right
// after: not waiting, GC found the periodic flush holding a device's
// latest cursor, read the one before from the store and cleared less than
// every device allowed, or took a device whose contact was in flight for
// silent. Flushes also commit in the order they took the activity, so an
// older cursor is never written over a newer one.
func (s *Server) flushActivity(ctx context.Context) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.actMu.Lock()
	if len(s.act) == 0 {
		s.actMu.Unlock()
		return
	}
	acts := make([]DeviceActivity, 0, len(s.act))
	for _, a := range s.act {
		acts = append(acts, a)
	}
	s.act = map[string]DeviceActivity{}
	s.actMu.Unlock()
	if err := s.store.Touch(context.WithoutCancel(ctx), acts); err != nil {
		// Only a failure counts: these small updates in place succeed on a
		// full disk where pushes do not.
		s.noteWrite(err)
		s.log.Error("record device activity", LogErr, err)
	}
}

// Sessions is the number of agent sessions open now.
func (s *Server) Sessions() int { return len(s.hub.all()) }

// GC runs tombstone collection now (the periodic job, and the admin's).
// Collection reads from the store which devices are silent. A device this
// process holds a session of is in contact now, however long ago it last
// pushed or pulled, and what it did since the last activity flush is only
// in memory: GC notes every session's device, then writes the activity.
// Taken for silent, a device in session (its pull pages answered after
// the horizon passed, or its session begun before it) would see entries
// above its cursor dropped, tombstones among them, and its later pulls in
// the session are not checked against the floor again.
func (s *Server) GC(ctx context.Context) (GCStats, error) {
	for _, c := range s.hub.all() {
		s.noteActivity(c.dev.ID, nil)
	}
	s.flushActivity(ctx)
	return Collect(ctx, s.store, s.gcOptions())
}

// NewLogEpoch is a fresh random log epoch for a restored store (Store
// LogEpoch): never 0, which means never restored.
func NewLogEpoch() uint64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails since Go 1.24
		if e := binary.BigEndian.Uint64(b[:]); e != 0 {
			return e
		}
	}
}

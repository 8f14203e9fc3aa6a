package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

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
	// LogReplay makes a first sync replay the server's log instead of
	// cloning by snapshot (slower; for comparisons and tests). A re-clone
	// the server asks for always uses a snapshot.
	LogReplay bool
	// SaveToken stores a new device token: the one a fork made (this data
	// folder turned out to be a copy, fork.go). Until it has, the token
	// stays in the replica file and is used from there (PendingToken).
	SaveToken func(token string) error
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
	// Fork is set when this data folder turned out to be a copy of
	// another and took a new replica id (fork.go).
	Fork *ForkInfo `json:"fork,omitempty"`
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
	s.Cloned += o.Cloned
	for t, n := range o.ClonedLive {
		if s.ClonedLive == nil {
			s.ClonedLive = map[string]int{}
		}
		s.ClonedLive[t] += n
	}
	s.Offset, s.ClockWarning, s.Scope = o.Offset, o.ClockWarning, o.Scope
	if o.ScopeChange != nil {
		s.ScopeChange = o.ScopeChange
	}
	if o.Fork != nil {
		s.Fork = o.Fork
	}
}

// syncURL is the WebSocket address of a server's sync endpoint.
func syncURL(server string) (string, error) {
	u, err := NormalizeServerURL(server)
	if err != nil {
		return "", err
	}
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path += "/v1/sync"
	return u.String(), nil
}

// Sync pushes every pending change and pulls everything new, once. A
// dropped connection is retried a few times; what the server acknowledged
// is never sent again, and a pull resumes from its stored cursor.
func (r *Replica) Sync(ctx context.Context, server, token string, opts SyncOptions) (SyncSummary, error) {
	opts.defaults()
	start := time.Now()
	var total SyncSummary
	// Never push from, or pull into, a damaged file (damage.go).
	if err := r.DamageCheck(ctx); err != nil {
		return total, err
	}
	token, err := r.takeToken(ctx, token, opts.SaveToken)
	if err != nil {
		return total, err
	}
	forks := 0
	for attempt := 0; attempt < 3; attempt++ {
		var s SyncSummary
		err = r.session(ctx, server, token, opts, false, &s)
		total.add(s)
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
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
		if sleep(ctx, jitter(time.Duration(attempt+1)*200*time.Millisecond)) != nil {
			break
		}
	}
	total.Duration = time.Since(start)
	r.recordSync(ctx, err)
	return total, r.explainRevoked(ctx, server, err) // revoked.go
}

func (r *Replica) recordSync(ctx context.Context, err error) {
	if IsStoreError(err) {
		return // a damaged file takes no write; a full disk takes none either
	}
	if err == nil {
		_ = setMeta(ctx, r.db, "last_sync", r.now().UnixMilli())
		_ = setMeta(ctx, r.db, "last_sync_error", "")
	} else if ctx.Err() == nil {
		_ = setMeta(ctx, r.db, "last_sync_error", err.Error())
	}
}

// retryable: worth another connection at once (a gap, a busy server, a
// dropped connection), as opposed to a refusal a person must fix.
func retryable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
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
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce.NotHamlet
	}
	// A damaged file or a full disk: a person must repair it or free space.
	return NeedsPerson(err)
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
	for ctx.Err() == nil {
		start := time.Now()
		var s SyncSummary
		err := r.DamageCheck(ctx)
		if err == nil {
			err = r.session(ctx, server, token, opts, true, &s)
		}
		if ctx.Err() != nil {
			return nil
		}
		if forkNeeded(err) {
			var sum SyncSummary
			tok, ferr := r.forkNow(ctx, server, token, &opts, &sum)
			if ferr == nil {
				token = tok
				if opts.OnSync != nil {
					opts.OnSync(sum, nil)
				}
				continue
			}
			err = ferr
		}
		r.recordSync(ctx, err)
		if opts.OnSync != nil && err != nil {
			opts.OnSync(s, err)
		}
		if fatal(err) {
			return r.explainRevoked(ctx, server, err) // revoked.go
		}
		if time.Since(start) > time.Minute {
			backoff = opts.MinBackoff // the connection was healthy for a while
		}
		if sleep(ctx, jitter(backoff)) != nil {
			return nil
		}
		backoff = min(backoff*2, opts.MaxBackoff)
	}
	return nil
}

// jitter spreads d over [d/2, d) so a village of laptops does not reconnect
// in lockstep after the 3G tower comes back.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// countingConn counts the bytes a connection carries (after TLS and
// compression: what the volunteer's data plan pays for).
type countingConn struct {
	net.Conn
	sent, recv *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.recv.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(int64(n))
	return n, err
}

// wire is one WebSocket session: a reader goroutine feeding in, writes from
// the session goroutine only, deadlines on both.
type wire struct {
	conn    *websocket.Conn
	timeout time.Duration
	in      chan inMsg
	done    chan struct{}
	wmu     sync.Mutex // one writer at a time (the pull pump writes too)
	wg      sync.WaitGroup
}

type inMsg struct {
	m   syncproto.Message
	err error
}

func (r *Replica) dial(ctx context.Context, server, token string, opts *SyncOptions, sent, recv *atomic.Int64) (*wire, error) {
	u, err := syncURL(server)
	if err != nil {
		return nil, err
	}
	nd := opts.Dial
	if nd == nil {
		d := &net.Dialer{Timeout: opts.IOTimeout, KeepAlive: 30 * time.Second}
		nd = d.DialContext
	}
	dialer := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c, sent: sent, recv: recv}, nil
		},
		HandshakeTimeout:  opts.IOTimeout,
		EnableCompression: true,
		TLSClientConfig:   opts.TLS,
		Proxy:             http.ProxyFromEnvironment,
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("User-Agent", ClientName())
	conn, resp, err := dialer.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if se := parseErrorBody(resp.StatusCode, body); se != nil {
				return nil, se
			}
			if resp.StatusCode == http.StatusUnauthorized {
				return nil, &ServerError{Status: resp.StatusCode, Code: syncproto.CodeUnauthorized, Msg: "unauthorized"}
			}
			return nil, &ConnectError{URL: server, NotHamlet: true, Err: fmt.Errorf("HTTP %d on %s", resp.StatusCode, u)}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnectError{URL: server, Err: err}
	}
	conn.SetReadLimit(int64(syncproto.DefaultLimits.MaxFrame) + 1024)
	conn.EnableWriteCompression(true)
	w := &wire{conn: conn, timeout: opts.IOTimeout, in: make(chan inMsg, 8), done: make(chan struct{})}
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(w.timeout))
	})
	w.wg.Add(2)
	go w.readLoop()
	go w.pingLoop()
	return w, nil
}

func (w *wire) readLoop() {
	defer w.wg.Done()
	defer close(w.in)
	for {
		_ = w.conn.SetReadDeadline(time.Now().Add(w.timeout))
		typ, data, err := w.conn.ReadMessage()
		var m inMsg
		switch {
		case err != nil:
			m.err = err
		case typ != websocket.BinaryMessage:
			m.err = syncproto.Errorf(syncproto.CodeBadFrame, "text frame on the sync socket")
		default:
			m.m, m.err = syncproto.Decode(data, syncproto.DefaultLimits)
		}
		select {
		case w.in <- m:
		case <-w.done:
			return
		}
		if m.err != nil {
			return
		}
	}
}

// pingLoop keeps an idle watch connection alive and detects a dead one:
// every pong extends the read deadline.
func (w *wire) pingLoop() {
	defer w.wg.Done()
	t := time.NewTicker(w.timeout / 3)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			if err := w.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(w.timeout)); err != nil {
				return
			}
		}
	}
}

func (w *wire) send(m syncproto.Message) error {
	buf, err := syncproto.Encode(nil, m)
	if err != nil {
		return err
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	return w.conn.WriteMessage(websocket.BinaryMessage, buf)
}

// recv waits for the next message. An ErrorMsg becomes a *ServerError.
func (w *wire) recv(ctx context.Context) (syncproto.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case m, ok := <-w.in:
		if !ok {
			return nil, io.ErrUnexpectedEOF
		}
		if m.err != nil {
			return nil, m.err
		}
		if em, ok := m.m.(*syncproto.ErrorMsg); ok {
			return nil, &ServerError{Code: em.Code, Msg: em.Msg, Fatal: em.Fatal}
		}
		return m.m, nil
	}
}

func (w *wire) close() {
	_ = w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	close(w.done)
	w.conn.Close()
	w.wg.Wait()
}

// netErr wraps a transport failure in the middle of a session.
func netErr(server string, err error) error {
	var se *ServerError
	var pe *syncproto.Error
	var ce *ConnectError
	if err == nil || errors.As(err, &se) || errors.As(err, &pe) || errors.As(err, &ce) || IsStoreError(err) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ConnectError{URL: server, Err: err}
}

// session runs one connection: handshake, push, pull, and in watch mode
// keeps going until the connection or ctx ends.
func (r *Replica) session(ctx context.Context, server, token string, opts SyncOptions, watch bool, sum *SyncSummary) (err error) {
	var sent, recv atomic.Int64
	defer func() {
		sum.BytesSent, sum.BytesReceived = sent.Load(), recv.Load()
		// This laptop's files fail as themselves, never as the network.
		err = netErr(server, r.Classify(err))
	}()
	w, err := r.dial(ctx, server, token, &opts, &sent, &recv)
	if err != nil {
		return err
	}
	defer w.close()

	helloAt := r.now()
	if err := w.send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: uint16(r.sch.Version()), Replica: r.id, Client: ClientName(), SentAt: helloAt.UnixMilli()}); err != nil {
		return err
	}
	m, err := w.recv(ctx)
	// A teammate's push may be announced before the Welcome (the server
	// counts the session from its upgrade): Welcome.Cursor covers it.
	for err == nil {
		if _, ok := m.(*syncproto.Notify); !ok {
			break
		}
		m, err = w.recv(ctx)
	}
	if err != nil {
		return err
	}
	sum.RoundTrips++
	wel, ok := m.(*syncproto.Welcome)
	if !ok {
		return syncproto.Errorf(syncproto.CodeUnexpected, "expected welcome, got %s", m.Type())
	}
	if err := r.welcome(ctx, wel, helloAt, r.now(), sum); err != nil {
		return err
	}
	batch := min(opts.BatchSize, int(wel.MaxChanges))
	if wel.MaxChanges == 0 {
		batch = opts.BatchSize
	}
	// A copy of another data folder pushes what it sent under this replica
	// id, then takes a new one (fork.go).
	bound, forkDue, err := r.forkBound(ctx, wel.PushedSeq)
	if err != nil {
		return err
	}
	// The push starts at the oldest change awaiting a result: unacknowledged
	// ones (≤ PushedSeq, their Ack was lost) come first.
	s := &syncRun{r: r, w: w, opts: &opts, sum: sum, batch: batch, forkDue: forkDue, forkBound: bound}
	cursor, err := r.metaInt(ctx, r.db, "cursor")
	if err != nil {
		return err
	}
	s.cursor = uint64(cursor)
	s.pullTotal = int(wel.Cursor) - int(s.cursor)
	s.pullStart = s.cursor
	needPull := wel.Cursor != s.cursor
	if !needPull {
		// The server learns what this replica stored only from a Pull's
		// Durable, and tells the collection horizon only in Changes (gc.go).
		if needPull, err = r.needsPull(ctx, s.cursor); err != nil {
			return err
		}
	}
	if err := s.push(ctx); err != nil {
		return err
	}
	if s.forkDue {
		return errForkDue
	}
	// A replica that never pulled, or whose log was truncated below its
	// cursor, clones by snapshot (clone.go), then pulls from its head. A
	// re-clone drops its rows first (needsClone), so the scope change
	// below has nothing to back-fill: the clone brings every hamlet.
	cl, err := s.needsClone(ctx, wel)
	if err != nil {
		return err
	}
	// After the push: drop lost hamlets, back-fill gained ones (scope.go).
	if err := s.rescope(ctx, wel.Scope); err != nil {
		return err
	}
	if cl {
		if err := s.clone(ctx); err != nil {
			return err
		}
		// Always pull after a clone: from the snapshot's head, and so the
		// server learns the cursor this replica holds (Pull.Durable).
		needPull = true
		s.pullStart, s.pullTotal = s.cursor, int(wel.Cursor)-int(s.cursor)
	}
	// A clone's deleted rows get their bounds (this session's clone, or
	// one whose session ended right after its last chunk).
	if err := r.noteClonedTombs(ctx); err != nil {
		return err
	}
	if needPull || s.notified || sum.Pushed > 0 {
		if err := s.pull(ctx); err != nil {
			return err
		}
	}
	if s.hidden > 0 {
		// The pull showed this replica's deletes missed edits and queued
		// the conflicts it records (hidden.go): the others hear of them now,
		// not at the next sync.
		s.hidden = 0
		if err := s.push(ctx); err != nil {
			return err
		}
	}
	if !watch {
		return nil
	}
	r.recordSync(ctx, nil)
	if opts.OnSync != nil {
		opts.OnSync(*sum, nil)
	}
	poll := time.NewTicker(opts.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case im, ok := <-w.in:
			if !ok {
				return io.ErrUnexpectedEOF
			}
			if im.err != nil {
				return im.err
			}
			switch m := im.m.(type) {
			case *syncproto.Notify:
				if m.Cursor <= s.cursor {
					continue
				}
			case *syncproto.ErrorMsg:
				return &ServerError{Code: m.Code, Msg: m.Msg, Fatal: m.Fatal}
			default:
				return syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while idle", m.Type())
			}
			before := *sum
			if err := s.pull(ctx); err != nil {
				return err
			}
			if opts.OnSync != nil {
				opts.OnSync(diff(*sum, before), nil)
			}
		case <-poll.C:
			n, err := r.Pending(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			before := *sum
			if err := s.push(ctx); err != nil {
				return err
			}
			if s.notified {
				if err := s.pull(ctx); err != nil {
					return err
				}
			}
			r.recordSync(ctx, nil)
			if opts.OnSync != nil {
				opts.OnSync(diff(*sum, before), nil)
			}
		}
	}
}

func diff(a, b SyncSummary) SyncSummary {
	a.Pushed -= b.Pushed
	a.Pulled -= b.Pulled
	a.Conflicts -= b.Conflicts
	a.Rejected -= b.Rejected
	a.Evicted -= b.Evicted
	a.RoundTrips -= b.RoundTrips
	a.Collected -= b.Collected
	return a
}

// welcome learns the clock offset and scope, and notes which pushes the
// server holds without their Ack having arrived (markUnacked).
func (r *Replica) welcome(ctx context.Context, w *syncproto.Welcome, sent, received time.Time, sum *SyncSummary) error {
	if w.Protocol != syncproto.ProtocolVersion {
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: fmt.Sprintf("server speaks protocol %d, this agent %d", w.Protocol, syncproto.ProtocolVersion)}
	}
	if int(w.MinSchema) > r.sch.Version() {
		a := syncproto.SchemaAdvice{Agent: r.sch.Version(), Min: int(w.MinSchema), Max: int(w.Schema)}
		return &ServerError{Code: syncproto.CodeVersionMismatch, Msg: a.Err().Msg}
	}
	measured := syncproto.EstimateOffset(sent, received, time.UnixMilli(w.ServerTime))
	// Sub-second offsets are measurement noise: correcting them would only
	// jitter the order of writes from laptops whose clocks are right.
	off := syncproto.Correction(measured, received.Sub(sent))
	if err := setMeta(ctx, r.db, "offset_ms", off.Milliseconds()); err != nil {
		return err
	}
	r.setClock(off, r.clk().Last())
	if err := setMeta(ctx, r.db, "clock_last", int64(r.clk().Last())); err != nil {
		return err
	}
	bound := r.clk().MaxSkew()
	if w.MaxSkewMs > 0 {
		bound = time.Duration(w.MaxSkewMs) * time.Millisecond
	}
	sum.Offset = off
	sum.ClockWarning = off > bound || -off > bound
	sum.Scope = w.Scope
	if err := r.noteHeldScope(ctx); err != nil {
		return err
	}
	if err := r.updateScope(ctx, w.Scope); err != nil {
		return err
	}
	if err := r.closeRepairGaps(ctx, w.PushedSeq); err != nil { // repair.go
		return err
	}
	if _, err := r.markUnacked(ctx, w.PushedSeq); err != nil {
		return err
	}
	return nil
}

// syncRun is the state of one session's push and pull.
type syncRun struct {
	r         *Replica
	w         *wire
	opts      *SyncOptions
	sum       *SyncSummary
	batch     int
	pushedSeq uint64 // highest seq sent (or held by the server)
	forkDue   bool   // a new replica id is due (fork.go): push nothing above forkBound
	forkBound uint64
	sentSeq   uint64 // highest seq recorded as sent (noteSent) this session
	nextBatch uint64
	cursor    uint64
	pullTotal int
	pullStart uint64
	notified  bool
	durable   atomic.Uint64 // the cursor committed, for Pull.Durable
	horizon   uint64        // the latest Changes.Horizon of this pull (gc.go)
	hidden    int           // edits the pull found under this replica's deletes (hidden.go)
	sent      atomic.Uint64 // the Durable of the last Pull sent
}

type inflight struct {
	id      uint64
	changes []syncproto.Change
}

// push sends every pending change in batches, up to Window unacknowledged
// at once, and records each Ack in its own transaction.
func (s *syncRun) push(ctx context.Context) error {
	total, err := s.r.Pending(ctx)
	if err != nil {
		return err
	}
	done := 0
	var queue []inflight
	exhausted := false
	for {
		for !exhausted && len(queue) < s.opts.Window {
			cs, err := s.r.pendingBatch(ctx, s.pushedSeq, s.batch)
			if err != nil {
				return err
			}
			if s.forkDue {
				cs = upTo(cs, s.forkBound)
			}
			if len(cs) == 0 {
				exhausted = true
				break
			}
			if last := cs[len(cs)-1].Dot.Seq; last > s.sentSeq {
				marked, err := s.r.noteSent(ctx, last)
				if err != nil {
					return err
				}
				s.sentSeq = marked
			}
			s.nextBatch++
			if err := s.w.send(&syncproto.Push{Batch: s.nextBatch, Changes: cs}); err != nil {
				return err
			}
			queue = append(queue, inflight{id: s.nextBatch, changes: cs})
			s.pushedSeq = cs[len(cs)-1].Dot.Seq
		}
		if len(queue) == 0 {
			return nil
		}
		m, err := s.w.recv(ctx)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			s.notified = true
		case *syncproto.Ack:
			s.sum.RoundTrips++
			head := queue[0]
			if m.Batch != head.id {
				return syncproto.Errorf(syncproto.CodeUnexpected, "ack for batch %d, expected %d", m.Batch, head.id)
			}
			queue = queue[1:]
			rej, forked, err := s.r.applyAck(ctx, head.changes, m.Results)
			if err != nil {
				return err
			}
			if forked > 0 {
				// The server holds other content under these sequences:
				// nothing more is pushed under this replica id (fork.go).
				s.forkDue, s.forkBound, exhausted = true, 0, true
			}
			s.sum.Pushed += len(head.changes) - rej - forked
			s.sum.Rejected += rej
			done += len(head.changes)
			if s.opts.Progress != nil {
				s.opts.Progress(Progress{Phase: "push", Done: done, Total: max(total, done)})
			}
		default:
			return syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while pushing", m.Type())
		}
	}
}

// Grouping of pulled batches into one transaction (see pull).
const (
	pullGroupChanges = 40000                  // changes per transaction at most
	pullGroupTime    = 300 * time.Millisecond // a transaction takes no new batch after this
	pullQueue        = 4                      // batches received and not yet stored, at most
)

// pulled is what the pull pump hands to the storing loop.
type pulled struct {
	m   *syncproto.Changes
	err error
}

// pull asks for everything after the cursor and stores it. Two goroutines
// share the work: the pump receives each Changes and at once asks for the
// next page, so the server reads and sends it while this replica is still
// storing earlier ones; the storing loop (this goroutine) applies the
// batches that have arrived, several in one transaction when they queue up
// (bounded in changes and time; it never waits for the network with the
// transaction open), and commits them with the last one's To as the
// cursor. The queue between them is bounded, so a slow disk slows the
// pulls instead of filling memory. Every Pull carries Durable, the cursor
// this replica has committed: the server measures tombstone collection by
// it, never by the Cursor asked for.
func (s *syncRun) pull(ctx context.Context) error {
	s.notified = false
	s.horizon = 0
	s.durable.Store(s.cursor)
	if err := s.sendPull(s.cursor); err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	queue := make(chan pulled, pullQueue)
	var notified atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.pump(pctx, queue, &notified)
	}()
	defer func() {
		cancel()
		<-done
		if notified.Load() {
			s.notified = true
		}
	}()
	for {
		var p pulled
		var ok bool
		// The pump stops without a word when ctx ends: do not wait for it.
		select {
		case p, ok = <-queue:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			n, err := s.r.afterPull(ctx, s.cursor, s.horizon, s.sent.Load())
			if err != nil {
				return err
			}
			s.sum.Collected += n
			return s.r.checkpoint(ctx)
		}
		if p.err != nil {
			return p.err
		}
		if err := s.applyGroup(ctx, p.m, queue); err != nil {
			return err
		}
	}
}

// pump receives the pull's Changes, asks for the next page as soon as one
// arrives (and once more after the last page if a Notify came meanwhile),
// and queues them for storing; it closes queue after the last page.
func (s *syncRun) pump(ctx context.Context, queue chan<- pulled, notified *atomic.Bool) {
	put := func(p pulled) bool {
		select {
		case queue <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	expect := s.cursor
	reset := false
	for {
		m, err := s.w.recv(ctx)
		var se *ServerError
		if errors.As(err, &se) && se.Code == syncproto.CodeBadCursor && !reset && expect == s.cursor {
			// The server's log is behind our cursor (it was restored from a
			// backup): start again from the beginning (§7.5).
			reset = true
			put(pulled{m: &syncproto.Changes{From: expect, To: 0, More: true}})
			expect = 0
			if err := s.sendPull(0); err != nil {
				put(pulled{err: err})
				return
			}
			continue
		}
		if err != nil {
			put(pulled{err: err})
			return
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			notified.Store(true)
			continue
		case *syncproto.Changes:
			if m.From != expect {
				put(pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "changes from %d, expected %d", m.From, expect)})
				return
			}
			expect = m.To
			more := m.More
			if !more && notified.Swap(false) {
				more = true // the log grew meanwhile: one more page
			}
			if more {
				if err := s.sendPull(m.To); err != nil {
					put(pulled{err: err})
					return
				}
			}
			if !put(pulled{m: m}) {
				return
			}
			if !more {
				close(queue)
				return
			}
		default:
			put(pulled{err: syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while pulling", m.Type())})
			return
		}
	}
}

func (s *syncRun) sendPull(cursor uint64) error {
	d := s.durable.Load()
	s.sent.Store(d)
	return s.w.send(&syncproto.Pull{Cursor: cursor, Limit: s.opts.PullLimit, Durable: d})
}

// applyGroup stores m, and the batches queued behind it, in one
// transaction.
func (s *syncRun) applyGroup(ctx context.Context, m *syncproto.Changes, queue <-chan pulled) error {
	g, err := s.r.beginPull(ctx)
	if err != nil {
		return err
	}
	defer g.rollback()
	start := time.Now()
	n, pulled := 0, 0
	var last *syncproto.Changes
	for m != nil {
		s.sum.RoundTrips++
		if err := g.apply(m); err != nil {
			return err
		}
		last = m
		n += len(m.Changes) + len(m.Evict)
		pulled += len(m.Changes)
		m = nil
		if n >= pullGroupChanges || time.Since(start) >= pullGroupTime {
			break
		}
		select {
		case p, ok := <-queue:
			switch {
			case !ok:
			case p.err != nil:
				return p.err
			default:
				m = p.m
			}
			if !ok {
				// The pump is done: commit, and let pull see the close.
				queue = nil
			}
		default:
		}
	}
	if err := g.commit(last.To); err != nil {
		return err
	}
	s.cursor = last.To
	s.durable.Store(last.To)
	if g.horizon != 0 {
		s.horizon = g.horizon
	}
	s.sum.Pulled += pulled
	s.sum.Conflicts += g.stats.conflicts
	s.sum.Evicted += g.stats.evicted
	s.hidden += g.stats.hidden
	if s.opts.Progress != nil {
		done := int(last.To - min(s.pullStart, last.To))
		s.opts.Progress(Progress{Phase: "pull", Done: done, Total: max(s.pullTotal, done)})
	}
	return nil
}

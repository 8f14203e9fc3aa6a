package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// hashToken is how device tokens are stored. Tokens are 32 random bytes, so
// there is nothing to brute-force and a fast hash is right: SHA-256.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate checks the bearer token of a request.
func (s *Server) authenticate(r *http.Request) (Device, error) {
	tok := bearer(r)
	if tok == "" {
		return Device{}, syncproto.Errorf(syncproto.CodeUnauthorized, "no bearer token")
	}
	d, err := s.store.DeviceByToken(r.Context(), hashToken(tok))
	if errors.Is(err, ErrNotFound) {
		return d, syncproto.Errorf(syncproto.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return d, storeError("cannot check the token", err)
	}
	if d.Revoked != nil {
		return d, syncproto.Errorf(syncproto.CodeTokenRevoked, "the device's token was revoked")
	}
	return d, nil
}

// handleSync authenticates, then upgrades: an unauthenticated client gets a
// JSON error and never a socket.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	dev, err := s.authenticate(r)
	if err != nil {
		s.log.Info("sync refused", LogRemote, ClientAddr(r), LogCode, string(protoError(err).Code))
		WriteHTTPError(w, err)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeUnexpected, "GET /v1/sync is a WebSocket endpoint"))
		return
	}
	// The session's place in its device's order: taken before the upgrade
	// answers, so a connection the client opened after this one's 101 is
	// newer whichever handler reaches the hub first.
	gen := s.hub.gen.Add(1)
	scope, err := s.store.Scope(r.Context(), dev.MemberID)
	if err != nil {
		s.log.Error("load scope", LogDevice, dev.ID, LogErr, err)
		WriteHTTPError(w, storeError("cannot load scope", err))
		return
	}
	ws, err := s.up.Upgrade(w, r, SecurityHeader(r))
	if err != nil {
		s.log.Info("websocket upgrade failed", LogDevice, dev.ID, LogErr, err)
		return // the upgrader has answered
	}
	c := &conn{
		st: s.store,
		s:  s, ws: ws, dev: dev, gen: gen, scopeList: scope, scope: map[string]bool{},
		send: make(chan []byte, s.cfg.SendQueue), wake: make(chan struct{}, 1), quit: make(chan struct{}),
	}
	for _, h := range scope {
		c.scope[h] = true
	}
	ws.SetReadLimit(int64(s.cfg.Limits.MaxFrame) + 64<<10)
	older, superseded := s.hub.add(c)
	s.metrics.connected.Inc()
	s.noteActivity(dev.ID, nil)
	s.log.Info("agent connected", LogDevice, dev.ID, LogRemote, ClientAddr(r))
	// One session per device: the older ones end once the message each is
	// handling is done, so nothing of theirs commits after this session's
	// Welcome reads PushedSeq (a crashed agent's session cannot race its
	// next start), and a token cannot hold many sockets.
	for _, o := range older {
		o.replace()
	}
	if superseded { // a newer one got to the hub first
		c.replace()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.writePump() }()
	noHello := time.AfterFunc(s.cfg.HelloWait, c.helloTimeout)
	c.readPump()
	noHello.Stop()
	wg.Wait()
	s.hub.remove(c)
	s.metrics.connected.Dec()
	s.noteActivity(dev.ID, nil)
	s.log.Info("agent disconnected", LogDevice, dev.ID, "reason", c.reason)
}

// ClientAddr is the client's address without its port: what the
// throttles count and the logs show.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// conn is one agent session. readPump (the handler goroutine) reads and
// answers messages one at a time; writePump owns every write. They meet at
// send, a bounded queue: an agent that does not read its answers fills it
// and is disconnected, so the server never buffers without limit.
// SessionStore is what a sync session reads of the store itself: its
// pushes go through the committer (apply.go), its pulls through the hub
// (Server.readLog).
type SessionStore interface {
	PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error)
	Head(ctx context.Context) (uint64, error)
	SnapshotStore
	DeviceRevoked(ctx context.Context, id string) (bool, error)
}

type conn struct {
	s         *Server
	st        SessionStore // s.store, as far as the session reads it
	ws        *websocket.Conn
	dev       Device
	gen       uint64 // order among the server's connections (hub.gen)
	scopeList []string
	scope     map[string]bool

	send     chan []byte   // closed by finish, under opMu
	wake     chan struct{} // a Notify may be due
	notifyAt atomic.Uint64 // the head to announce
	// answered is the highest Changes.To queued to the agent: it holds the
	// log up to there once it reads it. At most one Notify is outstanding
	// (sent above answered): the agent pulls for it, and only the answer to
	// that pull lets the next one go (writePump).
	answered atomic.Uint64
	quit     chan struct{} // closed when the writer must stop at once
	// greeted: Welcome is queued. Notify waits for it (writePump): a
	// session's first message is Welcome (§7.1), whatever commits while
	// the server reads what Welcome says.
	greeted atomic.Bool

	opMu     sync.Mutex // one message handled at a time; shutdown waits for it
	finished bool
	hello    bool
	schema   int // the agent's data schema (Hello.Schema)
	reason   string
	// closeCode and closeText are the WebSocket close frame's, set before
	// finishLocked closes send (0: 1000, normal closure).
	closeCode int
	closeText string
	quitOnce  sync.Once
	// horizon is the Changes.Horizon of the pull being answered (gc.go).
	horizon uint64
	// floorOK: a pull from this cursor or above was checked against the
	// log floor of the device's scopes (gc.go, checkFloor).
	floorOK uint64
}

func (c *conn) stop() { c.quitOnce.Do(func() { close(c.quit) }) }

// enqueueLocked queues a frame; a full queue means a slow reader: drop it.
// Callers hold opMu.
func (c *conn) enqueueLocked(m syncproto.Message) bool {
	if c.finished {
		return false
	}
	b, err := syncproto.Encode(nil, m)
	if err != nil {
		c.s.log.Error("encode message", LogDevice, c.dev.ID, LogErr, err)
		return false
	}
	ch, _ := m.(*syncproto.Changes)
	return c.enqueueFrameLocked(b, ch)
}

// enqueueFrameLocked queues an encoded frame; ch is the Changes it encodes,
// if it is one. Callers hold opMu.
func (c *conn) enqueueFrameLocked(b []byte, ch *syncproto.Changes) bool {
	if c.finished {
		return false
	}
	select {
	case c.send <- b:
		if ch != nil {
			maxStore(&c.answered, ch.To)
			c.poke() // a Notify held back for this pull may be due now
		}
		return true
	default:
		c.s.log.Warn("agent does not read its answers; disconnecting", LogDevice, c.dev.ID)
		c.reason = "slow reader"
		c.finishLocked()
		c.stop()
		c.ws.Close()
		return false
	}
}

// finishLocked ends the session after the queued frames are written.
func (c *conn) finishLocked() {
	if !c.finished {
		c.finished = true
		close(c.send)
	}
}

func (c *conn) fail(err error) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.failLocked(err)
}

func (c *conn) failLocked(err error) {
	em := wireError(err)
	c.s.metrics.errors.WithLabelValues(string(em.Code)).Inc()
	c.s.log.Info("protocol error", LogDevice, c.dev.ID, LogCode, string(em.Code), "fatal", em.Fatal, LogErr, err.Error())
	c.enqueueLocked(em)
	if em.Fatal {
		if c.reason == "" {
			c.reason = string(em.Code)
		}
		c.finishLocked()
	}
}

// shutdown is Close's part: it waits for the message being handled (a batch
// finishes and its Ack is queued), then says shutting_down and ends.
func (c *conn) shutdown() {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if c.finished {
		return
	}
	c.reason = "server shutdown"
	c.enqueueLocked(wireError(errShuttingDown))
	c.finishLocked()
}

// replace ends the session because a newer one of the same device
// started. It waits for the message being handled (a batch commits and its
// Ack is queued), then says session_replaced and closes with CloseReplaced.
func (c *conn) replace() {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if c.finished {
		return
	}
	c.reason = "replaced by a newer session of the device"
	c.closeCode, c.closeText = syncproto.CloseReplaced, string(syncproto.CodeSessionReplaced)
	c.failLocked(errReplaced)
}

// helloTimeout closes a connection that has not said Hello in time.
func (c *conn) helloTimeout() {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if c.hello || c.finished {
		return
	}
	c.s.log.Info("no hello in time; closing", LogDevice, c.dev.ID, LogDuration, c.s.cfg.HelloWait)
	c.reason = "no hello"
	c.closeCode, c.closeText = syncproto.CloseNoHello, "no Hello within "+c.s.cfg.HelloWait.String()
	c.finishLocked()
}

func (c *conn) notify(head uint64) {
	maxStore(&c.notifyAt, head)
	c.poke()
}

func (c *conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// maxStore raises v to x.
func maxStore(v *atomic.Uint64, x uint64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

func (c *conn) readPump() {
	pongWait := c.s.cfg.PongWait
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	max := c.s.cfg.Limits.MaxFrame
	buf := make([]byte, 0, 4096)
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.opMu.Lock()
			if c.reason == "" {
				c.reason = "read: " + closeReason(err)
			}
			if errors.Is(err, websocket.ErrReadLimit) {
				c.failLocked(syncproto.Errorf(syncproto.CodeTooLarge, "frame exceeds %d bytes", max))
			}
			c.finishLocked()
			c.opMu.Unlock()
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		// Read at most max+1 bytes: the limit holds after decompression too.
		buf = buf[:0]
		buf, err = readAll(buf, io.LimitReader(r, int64(max)+1))
		if err != nil {
			c.opMu.Lock()
			if errors.Is(err, websocket.ErrReadLimit) {
				c.failLocked(syncproto.Errorf(syncproto.CodeTooLarge, "frame exceeds %d bytes", max))
			} else {
				if c.reason == "" {
					c.reason = "read: " + closeReason(err)
				}
				c.finishLocked()
			}
			c.opMu.Unlock()
			return
		}
		if len(buf) > max {
			c.fail(syncproto.Errorf(syncproto.CodeTooLarge, "frame exceeds %d bytes", max))
			return
		}
		if typ != websocket.BinaryMessage {
			c.fail(syncproto.Errorf(syncproto.CodeBadFrame, "text frames are not part of the protocol; send binary frames"))
			return
		}
		m, err := syncproto.Decode(buf, c.s.cfg.Limits)
		if err != nil {
			c.fail(err)
			return
		}
		if !c.handle(m) {
			return
		}
		if cap(buf) > 64<<10 {
			buf = make([]byte, 0, 4096) // do not keep a large buffer on an idle connection
		}
	}
}

func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func closeReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return "closed by agent"
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	return "connection lost"
}

// handle answers one message; false ends the session.
func (c *conn) handle(m syncproto.Message) bool {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if c.finished {
		return false
	}
	ctx := c.s.ctx
	switch m := m.(type) {
	case *syncproto.Hello:
		if c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "hello was already received"))
			return !c.finished
		}
		return c.onHello(ctx, m)
	case *syncproto.Push:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onPush(ctx, m)
	case *syncproto.Pull:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onPull(ctx, m)
	case *syncproto.SnapshotRequest:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onSnapshot(ctx, m)
	case *syncproto.ErrorMsg:
		c.s.log.Info("agent reported an error", LogDevice, c.dev.ID, LogCode, string(m.Code), "fatal", m.Fatal)
		if m.Fatal {
			c.reason = "agent error " + string(m.Code)
			c.finishLocked()
		}
	default:
		c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "a %s message is not sent to the server", m.Type()))
	}
	return !c.finished
}

func (c *conn) onHello(ctx context.Context, h *syncproto.Hello) bool {
	switch {
	case h.Protocol != syncproto.ProtocolVersion:
		c.failLocked(syncproto.Errorf(syncproto.CodeVersionMismatch,
			"this server speaks sync protocol %d and the agent speaks %d: update hamlet-agent to the latest release", syncproto.ProtocolVersion, h.Protocol))
		return false
	case int(h.Schema) < c.s.cfg.MinAgentSchema || int(h.Schema) > schema.Version:
		c.failLocked(c.s.schemaRefusal(c.dev, int(h.Schema)))
		return false
	case h.Replica != c.dev.Replica:
		c.failLocked(syncproto.Errorf(syncproto.CodeUnauthorized, "this token was issued for another replica"))
		return false
	}
	pushed, err := c.st.PushedSeq(ctx, c.dev.Replica)
	if err != nil {
		c.failLocked(storeError("read pushed seq", err))
		return false
	}
	head, err := c.st.Head(ctx)
	if err != nil {
		c.failLocked(storeError("read head", err))
		return false
	}
	reclone, err := c.s.recloneNeeded(ctx, c.dev, c.scopeList)
	if err != nil {
		c.failLocked(storeError("read log floor", err))
		return false
	}
	c.hello = true
	c.schema = int(h.Schema)
	if !c.enqueueLocked(&syncproto.Welcome{Reclone: reclone,
		Protocol: syncproto.ProtocolVersion, Schema: schema.Version, MinSchema: uint16(c.s.cfg.MinAgentSchema),
		Server: c.s.id, ServerTime: c.s.now().UnixMilli(), EchoSentAt: h.SentAt, MaxSkewMs: c.s.cfg.MaxSkew.Milliseconds(),
		Scope: c.scopeList, PushedSeq: pushed, Cursor: head,
		MaxFrame: uint32(c.s.cfg.Limits.MaxFrame), MaxChanges: uint32(c.s.cfg.Limits.MaxChanges),
	}) {
		return false
	}
	c.greeted.Store(true)
	c.poke() // a commit since the connection opened may be due
	return true
}

func (c *conn) onPush(ctx context.Context, p *syncproto.Push) {
	start := time.Now()
	out, err := c.s.applyPush(ctx, pusher{deviceID: c.dev.ID, replica: c.dev.Replica, scope: c.scope, schema: c.schema, team: c.dev.TeamID, writer: schema.WriterVolunteer}, p.Changes)
	if err != nil {
		var ge *gapError
		if !errors.As(err, &ge) {
			c.s.log.Error("push failed", LogDevice, c.dev.ID, LogBatch, p.Batch, LogChanges, len(p.Changes), LogErr, err)
			err = storeError("store failed", err)
		}
		c.failLocked(err)
		return
	}
	el := time.Since(start)
	c.s.metrics.recordPush(out, el.Seconds())
	c.s.noteActivity(c.dev.ID, nil)
	c.s.log.Debug("push applied", LogDevice, c.dev.ID, LogBatch, p.Batch, LogChanges, len(p.Changes),
		"applied", out.applied, "superseded", out.superseded, "refused", out.refused, LogDuration, el)
	c.enqueueLocked(&syncproto.Ack{Batch: p.Batch, Results: out.results, ServerTime: c.s.now().UnixMilli()})
	c.endForkedLocked(out) // fork.go
	// On a store shared by several processes the feed has not reported
	// this commit yet; the pulls this Notify causes read the store until it
	// has (hub.local), so the answer is never older than the Notify.
	if len(out.scopes) > 0 {
		c.s.hub.notify(out.scopes, out.head, c)
	}
}

func (c *conn) onPull(ctx context.Context, p *syncproto.Pull) {
	limit := c.s.cfg.PullLimit
	if p.Limit > 0 && int(p.Limit) < limit {
		limit = int(p.Limit)
	}
	q := LogQuery{After: p.Cursor, Scopes: c.scopeList, Exclude: c.dev.Replica, Limit: limit}
	// A back-fill of hamlets the device gained (Pull.Scopes): the log of
	// those hamlets only, evictions from them included (LogQuery).
	backfill := len(p.Scopes) > 0
	if backfill {
		if err := c.pullScopes(p.Scopes); err != nil {
			c.failLocked(err)
			return
		}
		// Its own writes too: the replica may have dropped them when the
		// team lost the hamlet before.
		q.Scopes, q.Exclude = p.Scopes, syncproto.ReplicaID{}
		if err := c.checkBackfillFloor(ctx, p.Cursor, p.Scopes); err != nil {
			c.failLocked(err)
			return
		}
	} else if err := c.checkFloor(ctx, p.Cursor); err != nil {
		// (A back-fill reads hamlets the device never held: a collected
		// tombstone there leaves it nothing to miss.)
		c.failLocked(err)
		return
	}
	page, err := c.s.readLog(ctx, q)
	if err != nil {
		var pe *syncproto.Error
		if !errors.As(err, &pe) {
			c.s.log.Error("pull failed", LogDevice, c.dev.ID, LogErr, err)
			err = storeError("store failed", err)
		}
		c.failLocked(err)
		return
	}
	c.horizon = 0
	if !page.More {
		c.horizon = c.s.horizon(ctx, c.scopeList)
	}
	b, msg, err := c.changesFrame(p.Cursor, page)
	if err != nil {
		c.s.log.Error("encode changes", LogDevice, c.dev.ID, LogErr, err)
		c.failLocked(&syncproto.Error{Code: syncproto.CodeUnavailable, Msg: "encode failed", Err: err})
		return
	}
	c.s.metrics.pulls.Inc()
	// Pull.Durable, not Pull.Cursor, is what the agent holds: a pipelining
	// agent asks for the next page before it has stored the last one, and a
	// tombstone collected on the strength of Cursor could be lost if it then
	// crashed. A client cannot hold more than it asked for, so Durable is
	// capped by Cursor. Zero means "unchanged".
	if d := min(p.Durable, p.Cursor); d != 0 && !backfill {
		c.s.noteActivity(c.dev.ID, &d)
	} else {
		c.s.noteActivity(c.dev.ID, nil)
	}
	c.enqueueFrameLocked(b, msg)
}

// changesFrame encodes a page as one Changes frame. The page is cut short
// (To = the last entry kept, More = true) where its change list would need
// more than MaxDict names or replicas, more than MaxEvict evictions, or a
// frame above MaxFrame; the rest is the next page.
func (c *conn) changesFrame(from uint64, page LogPage) ([]byte, *syncproto.Changes, error) {
	lim := c.s.cfg.Limits
	entries := page.Entries
	for {
		msg, n := c.changesMsg(from, page.To, page.More, entries, lim)
		b, err := syncproto.Encode(nil, msg)
		if err != nil {
			return nil, nil, err
		}
		if len(b) <= lim.MaxFrame || n <= 1 {
			return b, msg, nil
		}
		// Large values: keep the share that fits, with a margin.
		keep := int(int64(n) * int64(lim.MaxFrame) / int64(len(b)) * 9 / 10)
		entries = entries[:max(1, min(keep, n-1))]
		page.To, page.More = entries[len(entries)-1].Seq, true
	}
}

// changesMsg builds the Changes of entries (all of them, or a prefix cut at
// the dictionary or eviction limits); n is the number of entries it covers.
func (c *conn) changesMsg(from, to uint64, more bool, entries []LogEntry, lim syncproto.Limits) (*syncproto.Changes, int) {
	msg := &syncproto.Changes{From: from, To: to, More: more, Changes: make([]syncproto.Change, 0, len(entries)), Horizon: c.horizon}
	names := make(map[string]struct{}, 64)
	reps := make(map[syncproto.ReplicaID]struct{}, 8)
	maxDict := lim.MaxDict
	if maxDict <= 0 {
		maxDict = syncproto.DefaultLimits.MaxDict
	}
	var evicted map[syncproto.RowID]bool
	for i := range entries {
		e := &entries[i]
		if e.Kind == EntryEviction {
			if c.scope[e.NewScope] {
				continue // moved within the device's scope: its changes follow
			}
			if lim.MaxEvict > 0 && len(msg.Evict) == lim.MaxEvict {
				msg.To, msg.More = entries[i-1].Seq, true
				return msg, i
			}
			msg.Evict = append(msg.Evict, syncproto.Eviction{Table: e.Change.Table, Row: e.Change.Row, NewScope: e.NewScope})
			if evicted == nil {
				evicted = map[syncproto.RowID]bool{}
			}
			evicted[e.Change.Row] = true
			continue
		}
		ch := &e.Change
		if evicted[ch.Row] {
			// The row left and came back: a client applies a batch's
			// changes before its evictions, so its return is the next page.
			msg.To, msg.More = entries[i-1].Seq, true
			return msg, i
		}
		nn, nr := len(names), len(reps)
		for _, s := range [...]string{ch.Table, ch.Scope, ch.Field} {
			if _, ok := names[s]; !ok {
				nn++
			}
		}
		_, okDot := reps[ch.Dot.Replica]
		if !okDot {
			nr++
		}
		if !ch.Base.IsZero() && ch.Base.Replica != ch.Dot.Replica {
			if _, ok := reps[ch.Base.Replica]; !ok {
				nr++
			}
		}
		if (nn > maxDict || nr > maxDict) && i > 0 {
			msg.To, msg.More = entries[i-1].Seq, true
			return msg, i
		}
		names[ch.Table], names[ch.Scope], names[ch.Field] = struct{}{}, struct{}{}, struct{}{}
		reps[ch.Dot.Replica] = struct{}{}
		if !ch.Base.IsZero() {
			reps[ch.Base.Replica] = struct{}{}
		}
		msg.Changes = append(msg.Changes, *ch)
	}
	return msg, len(entries)
}

// compressAbove is the frame size from which the server compresses.
const compressAbove = 1024

func (c *conn) writePump() {
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	ww := c.s.cfg.WriteWait
	closeFrame := func() {
		code, text := c.closeCode, c.closeText
		if code == 0 {
			code = websocket.CloseNormalClosure
		}
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(ww))
	}
	write := func(typ int, b []byte) bool {
		_ = c.ws.SetWriteDeadline(time.Now().Add(ww))
		// Deflate pays off on pages of changes, not on small acks.
		c.ws.EnableWriteCompression(len(b) > compressAbove)
		if err := c.ws.WriteMessage(typ, b); err != nil {
			c.stop()
			return false
		}
		return true
	}
	var sentNotify uint64
	for {
		select {
		case b, ok := <-c.send:
			if !ok {
				closeFrame()
				return
			}
			if !write(websocket.BinaryMessage, b) {
				return
			}
		case <-c.wake:
			if !c.greeted.Load() {
				continue // onHello pokes once Welcome is queued
			}
			// What was queued before the wake goes first: the Welcome
			// among it, whichever case select picked.
			for len(c.send) > 0 {
				b, ok := <-c.send
				if !ok {
					closeFrame()
					return
				}
				if !write(websocket.BinaryMessage, b) {
					return
				}
			}
			n, a := c.notifyAt.Load(), c.answered.Load()
			if n <= max(sentNotify, a) {
				continue // the agent was told, or already pulled that far
			}
			if sentNotify > a {
				continue // a Notify is outstanding: its pull's answer pokes wake
			}
			sentNotify = n
			b, err := syncproto.Encode(nil, &syncproto.Notify{Cursor: n})
			if err != nil || !write(websocket.BinaryMessage, b) {
				return
			}
			c.s.metrics.notifies.Inc()
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(ww)); err != nil {
				c.stop()
				return
			}
		case <-c.quit:
			return
		}
	}
}

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

	"github.com/hamlet-vn/hamlet/internal/framezstd"
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
	var ws FrameConn
	zstdFrames := false
	if fa, ok := w.(FrameAcceptor); ok {
		ws = fa.AcceptFrames() // internal/simtest's network: no upgrade
	} else {
		h := SecurityHeader(r)
		if zstdFrames = framezstd.Offered(r.Header.Values(framezstd.Header)); zstdFrames {
			h.Set(framezstd.Header, framezstd.Token) // docs/PROTOCOL.md §2.2
		}
		if ws, err = s.up.Upgrade(w, r, h); err != nil {
			s.log.Info("websocket upgrade failed", LogDevice, dev.ID, LogErr, err)
			return // the upgrader has answered
		}
	}
	c := &conn{
		st: s.store,
		s:  s, ws: ws, zstd: zstdFrames, dev: dev, gen: gen, scopeList: scope, scope: map[string]bool{},
		since: s.lastSynced(dev.ID), began: s.now(),
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
	if s.cfg.Sched == nil { // a Scheduler's session writes as it queues (writeQueued)
		wg.Add(1)
		go func() { defer wg.Done(); c.writePump() }()
	}
	stopHello := s.afterFunc(s.cfg.HelloWait, c.helloTimeout)
	c.readPump()
	stopHello()
	c.lockOp()
	c.dropAhead()
	c.opMu.Unlock()
	wg.Wait()
	// Noted before the session leaves the hub: a session Sessions no
	// longer counts has its last activity noted, so a test that waits for
	// the sessions to end and then moves its clock ahead finds the device
	// silent since then, not seen at the later time.
	s.noteActivity(dev.ID, nil)
	s.hub.remove(c)
	s.metrics.connected.Dec()
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

// FrameConn is what a session needs of its connection: a
// *websocket.Conn, or a connection of internal/simtest's in-memory network.
type FrameConn interface {
	NextReader() (messageType int, r io.Reader, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	SetReadLimit(limit int64)
	EnableWriteCompression(enable bool)
	Close() error
}

// FrameAcceptor is a ResponseWriter that carries a sync session's frames
// itself (internal/simtest's in-memory network): GET /v1/sync runs the session
// over AcceptFrames instead of upgrading the connection to a WebSocket.
type FrameAcceptor interface {
	http.ResponseWriter
	AcceptFrames() FrameConn
}

type conn struct {
	s         *Server
	st        SessionStore // s.store, as far as the session reads it
	ws        FrameConn
	zstd      bool // the agent offered zstd frames (framezstd.Header): writeFrame sends it large ones so
	dev       Device
	gen       uint64 // order among the server's connections (hub.gen)
	scopeList []string
	scope     map[string]bool
	// since is when the device's last session that pushed everything it
	// held began (lastSynced): the scope verdict dates no change it pushes
	// earlier (scope.go). began is when this one began; pulled: it sent a
	// Pull, after pushing (noteSynced).
	since, began time.Time
	pulled       bool
	// holds is the highest cursor this session's agent has shown it
	// stores (Pull.Durable, capped by Pull.Cursor); 0 before it says.
	// Pushes are marked against it (apply.go ownBack), not against the
	// cursor the server heard last: a laptop restored from an older copy
	// holds less than it once acknowledged (review 29 S1).
	holds uint64

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
	// welcomed is the head Welcome named (Welcome.Cursor), set before
	// greeted: the agent pulls up to it if it holds less, so a Notify
	// announces only growth past it. One at or below it (the head every
	// session is told when another process's commit is found, grown or
	// not) was ignored by an agent that held it, and, outstanding for
	// good, silenced the session.
	welcomed atomic.Uint64
	// sentNotify is the last Notify written; wdone: the writer is done
	// (Config.Sched). The writer's own.
	sentNotify uint64
	wdone      bool

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
	// above is what the snapshot being served found logged above its head
	// (snapshot.go, loggedAbove).
	above *snapAbove
	// ahead is the snapshot chunk being read before its request
	// (snapshot_ahead.go).
	ahead *snapAhead
}

func (c *conn) stop() {
	c.quitOnce.Do(func() { close(c.quit) })
	c.writeQueued()
}

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
		c.writeQueued()
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
		c.writeQueued()
	}
}

func (c *conn) fail(err error) {
	c.lockOp()
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
	c.lockOp()
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
	c.lockOp()
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
	c.lockOp()
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
	if c.s.cfg.Sched != nil {
		c.writeQueued()
		return
	}
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

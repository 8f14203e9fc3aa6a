package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/internal/framezstd"
	"github.com/hamlet-vn/hamlet/internal/readall"
	"github.com/hamlet-vn/hamlet/syncproto"
)

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

// FrameConn is a sync session's connection: a *websocket.Conn, or one of
// internal/simtest's in-memory network (SyncOptions.Frames). Under a
// Scheduler it also says whether a read would return at once (Readable).
type FrameConn interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	SetReadLimit(limit int64)
	EnableWriteCompression(enable bool)
	Close() error
}

// readable reports whether c has a frame, an error or its deadline to
// give at once (a simulation's connection says; any other is assumed to).
func readable(c FrameConn) bool {
	if r, ok := c.(interface{ Readable() bool }); ok {
		return r.Readable()
	}
	return true
}

// wire is one WebSocket session: a reader goroutine feeding in, writes from
// the session goroutine only, deadlines on both. Under a Scheduler
// (SyncOptions.Sched) it has no goroutine: recv reads the connection
// itself, parking the session's task until a frame is there.
type wire struct {
	conn    FrameConn
	timeout time.Duration
	sched   Scheduler
	in      chan inMsg
	done    chan struct{}
	wmu     sync.Mutex // one writer at a time (the pull pump writes too)
	wg      sync.WaitGroup
	// zstd: this connection offered zstd frames (framezstd.Header), so a
	// frame that starts as one is one; a frame never starts so otherwise.
	zstd bool
	rbuf []byte // the frame read last (readMessage), the reader's own
}

// zstdFrames decompresses the frames of every connection of the process,
// up to the size a message may have.
var zstdFrames = sync.OnceValues(func() (*framezstd.Decoder, error) {
	return framezstd.NewDecoder(maxMessage)
})

type inMsg struct {
	m   syncproto.Message
	err error
}

// now is the time deadlines are set from.
func (w *wire) now() time.Time {
	if w.sched != nil {
		return w.sched.Now()
	}
	return time.Now()
}

func (r *Replica) dial(ctx context.Context, server, token string, opts *SyncOptions, sent, recv *atomic.Int64) (*wire, error) {
	u, err := syncURL(server)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("User-Agent", ClientName())
	var conn FrameConn
	var resp *http.Response
	if opts.Frames != nil {
		conn, resp, err = opts.Frames(ctx, u, h)
	} else {
		// The server may send its large frames as zstd (docs/PROTOCOL.md
		// §2.2): a server that does not know the header deflates them.
		h.Set(framezstd.Header, framezstd.Token)
		conn, resp, err = wsDial(ctx, u, h, opts, sent, recv)
	}
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
			ru, _ := url.Parse(u) // syncURL made it
			return nil, answerError(server, ru, resp, body, " on "+u)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnectError{URL: server, Err: err}
	}
	conn.SetReadLimit(int64(maxMessage))
	w := &wire{conn: conn, timeout: opts.IOTimeout, sched: opts.Sched, in: make(chan inMsg, 8), done: make(chan struct{}),
		zstd: opts.Frames == nil}
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(w.now().Add(w.timeout))
	})
	if w.sched == nil {
		w.wg.Add(2)
		go w.readLoop()
		go w.pingLoop()
	}
	return w, nil
}

// wsDial opens the WebSocket.
func wsDial(ctx context.Context, u string, h http.Header, opts *SyncOptions, sent, recv *atomic.Int64) (FrameConn, *http.Response, error) {
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
	conn, resp, err := dialer.DialContext(ctx, u, h)
	if err != nil {
		return nil, resp, err
	}
	return conn, resp, nil
}

func (w *wire) readLoop() {
	defer w.wg.Done()
	defer close(w.in)
	for {
		m := w.read()
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

// read reads and decodes the next frame. The reader goroutine gives the
// read its deadline first and waits in ReadMessage. Under a Scheduler the
// caller has already waited (recv, awaitIdle), where its context and poll
// reach it, until the connection was readable: a frame, or the deadline
// passed on a stalled link. Moving the deadline then would turn that
// timeout into a second wait inside the connection, which nothing but a
// frame ends (a watch stopped, or a link that carried frames again, waited
// for ever: issue 17). So the deadline of the next wait is set after the
// read, from the time this one returned.
func (w *wire) read() inMsg {
	if w.sched == nil {
		_ = w.conn.SetReadDeadline(w.now().Add(w.timeout))
	}
	typ, data, err := w.readMessage()
	if w.sched != nil {
		_ = w.conn.SetReadDeadline(w.now().Add(w.timeout))
	}
	var m inMsg
	switch {
	case err != nil:
		m.err = err
	case typ != websocket.BinaryMessage:
		m.err = syncproto.Errorf(syncproto.CodeBadFrame, "text frame on the sync socket")
	case w.zstd && framezstd.Is(data):
		d, err := zstdFrames()
		if err == nil {
			data, err = d.Decode(data)
		}
		if errors.Is(err, framezstd.ErrTooLarge) {
			m.err = syncproto.Errorf(syncproto.CodeTooLarge, "%v", err)
			break
		}
		if err != nil {
			m.err = syncproto.Errorf(syncproto.CodeBadFrame, "%v", err)
			break
		}
		m.m, m.err = syncproto.Decode(data, syncproto.DefaultLimits)
	default:
		m.m, m.err = syncproto.Decode(data, syncproto.DefaultLimits)
	}
	return m
}

// readMessage reads the next message. From a WebSocket it reads into the
// wire's buffer, which the next read overwrites: Decode copies what it keeps
// (the server reads its frames so too), and a zstd frame is decompressed
// into a buffer of its own. A clone's frames, read each into a new buffer
// grown from 512 bytes, cost the agent half a gigabyte of garbage. Any
// other FrameConn (a simulation's, a test's wrapper) is read through its
// ReadMessage.
func (w *wire) readMessage() (int, []byte, error) {
	ws, ok := w.conn.(*websocket.Conn)
	if !ok {
		return w.conn.ReadMessage()
	}
	typ, r, err := ws.NextReader()
	if err != nil {
		return typ, nil, tooLarge(err)
	}
	if cap(w.rbuf) > 1<<20 {
		w.rbuf = nil // do not keep a large frame's buffer for a long session
	}
	// The read limit counts the bytes on the wire: a deflated message
	// inflates past it unchecked (a 4 MiB one to some 4 GiB). Read no more
	// than a message may hold (docs/PROTOCOL.md §10), as the server does.
	w.rbuf, err = readall.Into(w.rbuf[:0], io.LimitReader(r, int64(maxMessage)+1))
	if err != nil {
		return typ, nil, tooLarge(err)
	}
	if len(w.rbuf) > maxMessage {
		return typ, nil, syncproto.Errorf(syncproto.CodeTooLarge, "a message of more than %d bytes", maxMessage)
	}
	return typ, w.rbuf, nil
}

// maxMessage is the most a message from the server may hold on the wire or
// inflated (SetReadLimit; Decode then holds it to MaxFrame).
var maxMessage = syncproto.DefaultLimits.MaxFrame + 1024

// tooLarge says a message over the connection's read limit is too large
// (a protocol error, as the server says it), not a network failure.
func tooLarge(err error) error {
	if errors.Is(err, websocket.ErrReadLimit) {
		return syncproto.Errorf(syncproto.CodeTooLarge, "a message of more than %d bytes", maxMessage)
	}
	return err
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
	if err := w.conn.SetWriteDeadline(w.now().Add(w.timeout)); err != nil {
		return err
	}
	// A small message goes as it is: deflating it saves a few bytes at
	// best, and the first compressed message of a process costs the
	// compressor's ~1 MB of tables, a good part of a no-op sync's time
	// (issue 20). The server does the same (compressAbove).
	w.conn.EnableWriteCompression(len(buf) > compressAbove)
	return w.conn.WriteMessage(websocket.BinaryMessage, buf)
}

// compressAbove is the message size from which the agent compresses.
const compressAbove = 1024

// recv waits for the next message. An ErrorMsg becomes a *ServerError.
func (w *wire) recv(ctx context.Context) (syncproto.Message, error) {
	if w.sched != nil {
		// Park only when there is nothing to read: a caller may hold a
		// transaction open (applyGroup takes what has arrived), and a
		// parked task's transaction would block every other task of the
		// replica where the scheduler cannot see it.
		if ctx.Err() == nil && !readable(w.conn) {
			w.sched.Block(func() bool { return ctx.Err() != nil || readable(w.conn) })
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return w.received(w.read(), true)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case m, ok := <-w.in:
		return w.received(m, ok)
	}
}

// received is recv's answer for m (ok false: the reader is done).
func (w *wire) received(m inMsg, ok bool) (syncproto.Message, error) {
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

// ready reports whether recv would return at once with a message or an
// error the connection has (Scheduler; the reader goroutine's queue
// otherwise).
func (w *wire) ready() bool {
	if w.sched != nil {
		return readable(w.conn)
	}
	return len(w.in) > 0
}

func (w *wire) close() {
	_ = w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), w.now().Add(time.Second))
	close(w.done)
	w.conn.Close()
	w.wg.Wait()
}

// netErr wraps a transport failure of a session: dropped says the
// connection was open (the server answered, the sync was under way), so
// the network dropped it rather than failed to reach the server.
func netErr(server string, err error, dropped bool) error {
	var se *ServerError
	var pe *syncproto.Error
	var ce *ConnectError
	if err == nil || errors.As(err, &se) || errors.As(err, &pe) || errors.As(err, &ce) || IsStoreError(err) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ConnectError{URL: server, Err: err, Dropped: dropped}
}

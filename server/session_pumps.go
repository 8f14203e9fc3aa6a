package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/internal/framezstd"
	"github.com/hamlet-vn/hamlet/internal/readall"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A session's two goroutines: readPump reads frames and hands each to
// handle (session_phases.go); writePump writes what the session queued
// (answers, Notify, pings) with a deadline on every write.

// readPump runs on the handler's goroutine until the connection ends.
func (c *conn) readPump() {
	pongWait := c.s.cfg.PongWait
	_ = c.ws.SetReadDeadline(c.s.ioNow().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(c.s.ioNow().Add(pongWait)) })
	max := c.s.cfg.Limits.MaxFrame
	buf := make([]byte, 0, 4096)
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.lockOp()
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
		_ = c.ws.SetReadDeadline(c.s.ioNow().Add(pongWait))
		// Read at most max+1 bytes: the limit holds after decompression too.
		buf = buf[:0]
		buf, err = readall.Into(buf, io.LimitReader(r, int64(max)+1))
		if err != nil {
			c.lockOp()
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

// compressAbove is the frame size from which the server compresses.
const compressAbove = 1024

func (c *conn) writePump() {
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	ww := c.s.cfg.WriteWait
	for {
		select {
		case b, ok := <-c.send:
			if !c.writeFrame(b, ok) {
				return
			}
		case <-c.wake:
			if !c.writeWake() {
				return
			}
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

// writeFrame writes one frame taken from send (ok false: send is closed,
// and the close frame goes out); false means the writer is done.
func (c *conn) writeFrame(b []byte, ok bool) bool {
	if !ok {
		code, text := c.closeCode, c.closeText
		if code == 0 {
			code = websocket.CloseNormalClosure
		}
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), c.s.ioNow().Add(c.s.cfg.WriteWait))
		return false
	}
	_ = c.ws.SetWriteDeadline(c.s.ioNow().Add(c.s.cfg.WriteWait))
	// Compression pays off on pages of changes, not on small acks.
	compress := len(b) > compressAbove
	if compress && c.zstd {
		// An agent that offered zstd frames takes them instead of
		// permessage-deflate: at half the server's CPU and a seventh of the
		// agent's (internal/framezstd).
		zb := zstdBufs.Get().(*[]byte)
		defer zstdBufs.Put(zb)
		if z := framezstd.Compress((*zb)[:0], b); len(z) < len(b) {
			*zb, b, compress = z, z, false
		}
	}
	c.ws.EnableWriteCompression(compress)
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.stop()
		return false
	}
	return true
}

// zstdBufs are the frames writeFrame compresses into, shared by the
// connections: an idle connection keeps none.
var zstdBufs = sync.Pool{New: func() any { return new([]byte) }}

// writeWake sends the Notify that may be due; false means the writer is
// done.
func (c *conn) writeWake() bool {
	if !c.greeted.Load() {
		return true // onHello pokes once Welcome is queued
	}
	// What was queued before the wake goes first: the Welcome among it,
	// whichever case select picked.
	for len(c.send) > 0 {
		b, ok := <-c.send
		if !c.writeFrame(b, ok) {
			return false
		}
	}
	n, a := c.notifyAt.Load(), c.answered.Load()
	if n <= max(c.sentNotify, a, c.welcomed.Load()) {
		return true // the agent was told (a Notify, the Welcome), or already pulled that far
	}
	if c.sentNotify > a {
		return true // a Notify is outstanding: its pull's answer pokes wake
	}
	c.sentNotify = n
	b, err := syncproto.Encode(nil, &syncproto.Notify{Cursor: n})
	if err != nil || !c.writeFrame(b, true) {
		return false
	}
	c.s.metrics.notifies.Inc()
	return true
}

// writeQueued is the writer's work done at once by the task that queued
// it, under a Scheduler (Config.Sched), which runs no writer goroutine:
// every frame queued is written, then a due Notify. The order is the
// writer goroutine's; when the frames travel is the simulated network's
// business.
func (c *conn) writeQueued() {
	if c.s.cfg.Sched == nil || c.wdone {
		return
	}
	if closed(c.quit) {
		c.endWriter()
		return
	}
	for {
		select {
		case b, ok := <-c.send:
			if !c.writeFrame(b, ok) {
				c.endWriter()
				return
			}
			continue
		default:
		}
		break
	}
	if !c.writeWake() {
		c.endWriter()
	}
}

// endWriter is what the writer goroutine's return does (Config.Sched).
func (c *conn) endWriter() {
	c.wdone = true
	c.ws.Close()
}

package server

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// A session's two goroutines: readPump reads frames and hands each to
// handle (session_phases.go); writePump writes what the session queued
// (answers, Notify, pings) with a deadline on every write.

// readPump runs on the handler's goroutine until the connection ends.
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

package simtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The in-memory network. A sync session is a link: two pipes, one each
// way, each a queue of frames sent and not yet delivered (in flight) and a
// queue delivered and not yet read. The driver delivers frames (one at a
// time, in order: WebSocket runs over TCP), and injects faults: a delay is
// a frame left in flight while other steps run; a cut "at any byte" of a
// frame loses that frame and everything after it and breaks the link both
// ways; a stall (a partition, a peer that died without closing) delivers
// nothing until a reader's deadline passes; duplication and reordering of
// frames within a link (a misbehaving middlebox: TCP never does it) test
// that both ends refuse what does not follow and lose nothing by it.
//
// Keep-alive is not simulated frame by frame: a link that is not stalled
// never times out (pings would keep it alive), a stalled one times out at
// the reader's deadline, as a dead peer does.

type frameKind uint8

const (
	frameData frameKind = iota
	frameClose
)

type frame struct {
	kind frameKind
	data []byte
	code int // close frames
	text string
}

type pipe struct {
	flight  []frame
	arrived []frame
	// closed: the writer closed (a close frame or its socket): once what
	// it sent is read, the reader sees the end.
	closed bool
}

type link struct {
	id     int
	name   string // the laptop's
	s      *Sim
	toSrv  pipe
	toAg   pipe
	broken bool // cut: both ends fail at once
	stall  bool // nothing is delivered; readers time out at their deadline
	// backfill: the agent's last request on this link asked for hamlets
	// its team gained (Pull.Scopes, SnapshotRequest.Scopes).
	backfill bool
	// the server's and the agent's ends
	srv *srvEnd
	ag  *agEnd
	// pushes: the changes of each Push the server received on this link,
	// by batch, for its Ack (checkAck; a duplicated Ack finds them too).
	pushes map[uint64][]syncproto.Change
	// device: the device whose token the laptop dialled with
	// (laptop.tokenDevice; "" when not known);
	// revokedPush: the batches of Pushes the server received on this link
	// while that device's revocation stood committed (checkAck), each with
	// the count of the device's restores begun then (Sim.restores);
	// allowedPush, those it received before it (a Push the network
	// duplicated may reach it on both sides of the revocation)
	device      string
	revokedPush map[uint64]int
	allowedPush map[uint64]bool
	// reordered: frames from the agent reached the server out of order,
	// which only the harness does (checkNoGap)
	reordered bool
}

var errReset = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer (simulated)")}
var errTimeout = &timeoutErr{}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout (simulated)" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

// end is what both ends share: a link, which pipe it reads and writes.
type end struct {
	l        *link
	in, out  *pipe
	deadline time.Time
	closed   bool // this end closed its socket
}

func (e *end) readable() bool {
	switch {
	case e.closed || e.l.broken || len(e.in.arrived) > 0:
		return true
	case e.in.closed && len(e.in.flight) == 0:
		return true // the peer closed and everything it sent was read
	case e.l.stall && !e.deadline.IsZero() && !e.l.s.sch.now.Before(e.deadline):
		return true
	}
	return false
}

// read returns the next frame, parking the task until one can be given.
func (e *end) read() (frame, error) {
	if !e.readable() {
		e.l.s.sch.Block(e.readable)
	}
	switch {
	case e.closed:
		return frame{}, net.ErrClosed
	case len(e.in.arrived) > 0:
		f := e.in.arrived[0]
		e.in.arrived = e.in.arrived[1:]
		if f.kind == frameClose {
			e.in.arrived, e.in.flight = nil, nil
			return f, &websocket.CloseError{Code: f.code, Text: f.text}
		}
		return f, nil
	case e.l.broken:
		return frame{}, errReset
	case e.in.closed:
		return frame{}, io.ErrUnexpectedEOF
	default:
		return frame{}, errTimeout
	}
}

func (e *end) write(f frame) error {
	switch {
	case e.closed:
		return net.ErrClosed
	case e.l.broken:
		return &net.OpError{Op: "write", Net: "tcp", Err: errors.New("broken pipe (simulated)")}
	case e.out.closed:
		return nil // the socket closed after a close frame: nothing more goes out
	}
	e.out.flight = append(e.out.flight, f)
	if f.kind == frameClose {
		e.out.closed = true
	}
	return nil
}

func (e *end) close() error {
	if !e.closed {
		e.closed = true
		e.out.closed = true
	}
	return nil
}

func (e *end) setReadDeadline(t time.Time) error { e.deadline = t; return nil }

// srvEnd is the server's end: a server.FrameConn.
type srvEnd struct{ end }

func (c *srvEnd) NextReader() (int, io.Reader, error) {
	f, err := c.read()
	if err != nil {
		return 0, nil, err
	}
	return websocket.BinaryMessage, bytes.NewReader(f.data), nil
}
func (c *srvEnd) WriteMessage(typ int, data []byte) error {
	return c.write(frame{kind: frameData, data: bytes.Clone(data)})
}
func (c *srvEnd) WriteControl(typ int, data []byte, _ time.Time) error { return c.control(typ, data) }
func (c *srvEnd) SetReadDeadline(t time.Time) error                    { return c.setReadDeadline(t) }
func (c *srvEnd) SetWriteDeadline(time.Time) error                     { return nil }
func (c *srvEnd) SetPongHandler(func(string) error)                    {}
func (c *srvEnd) SetReadLimit(int64)                                   {}
func (c *srvEnd) EnableWriteCompression(bool)                          {}
func (c *srvEnd) Close() error                                         { return c.close() }

// agEnd is the agent's end: an agent.FrameConn.
type agEnd struct{ end }

func (c *agEnd) ReadMessage() (int, []byte, error) {
	f, err := c.read()
	if err != nil {
		return 0, nil, err
	}
	return websocket.BinaryMessage, f.data, nil
}
func (c *agEnd) WriteMessage(typ int, data []byte) error {
	return c.write(frame{kind: frameData, data: bytes.Clone(data)})
}
func (c *agEnd) WriteControl(typ int, data []byte, _ time.Time) error { return c.control(typ, data) }
func (c *agEnd) SetReadDeadline(t time.Time) error                    { return c.setReadDeadline(t) }
func (c *agEnd) SetWriteDeadline(time.Time) error                     { return nil }
func (c *agEnd) SetPongHandler(func(string) error)                    {}
func (c *agEnd) SetReadLimit(int64)                                   {}
func (c *agEnd) EnableWriteCompression(bool)                          {}
func (c *agEnd) Close() error                                         { return c.close() }
func (c *agEnd) Readable() bool                                       { return c.readable() }

// control writes a close frame (pings are not simulated: see above).
func (e *end) control(typ int, data []byte) error {
	if typ != websocket.CloseMessage {
		return nil
	}
	code, text := websocket.CloseNoStatusReceived, ""
	if len(data) >= 2 {
		code, text = int(data[0])<<8|int(data[1]), string(data[2:])
	}
	return e.write(frame{kind: frameClose, code: code, text: text})
}

func newLink(s *Sim, name string) *link {
	s.linkID++
	l := &link{id: s.linkID, name: name, s: s}
	l.srv = &srvEnd{end{l: l, in: &l.toSrv, out: &l.toAg}}
	l.ag = &agEnd{end{l: l, in: &l.toAg, out: &l.toSrv}}
	return l
}

// live reports whether the link still carries or holds frames.
func (l *link) live() bool {
	return !(l.srv.closed && l.ag.closed) && !l.broken ||
		len(l.toSrv.flight)+len(l.toAg.flight) > 0
}

// deliverable lists the pipes with a frame in flight that may be
// delivered now.
func (l *link) pending() int {
	if l.broken || l.stall {
		return 0
	}
	return len(l.toSrv.flight) + len(l.toAg.flight)
}

// deliver moves the first frame in flight on p to its reader.
func (l *link) deliver(p *pipe) frame {
	f := p.flight[0]
	p.flight = p.flight[1:]
	p.arrived = append(p.arrived, f)
	return f
}

// cut breaks the link: every frame in flight is lost (the first of them
// cut after some of its bytes).
func (l *link) cut() (lost int) {
	lost = len(l.toSrv.flight) + len(l.toAg.flight)
	l.toSrv.flight, l.toAg.flight = nil, nil
	l.broken = true
	return lost
}

func (l *link) String() string { return fmt.Sprintf("link %d (%s)", l.id, l.name) }

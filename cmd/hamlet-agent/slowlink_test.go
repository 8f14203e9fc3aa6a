package main

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowLink is a TCP proxy that behaves like a rural 3G link, since these
// machines' kernels have no netem: each way carries Rate bytes a second
// (all connections of the laptop share the radio) and every byte arrives
// OneWay after it left; Stall holds both ways for a while (a tower
// hand-over, a lorry between the house and the mast); CutAt cuts the
// first connection whose bytes in the chosen way pass it. The sockets on
// both sides have a 1460-byte MSS and small buffers, so a sender blocks
// as it would behind a real bottleneck (loopback's 64 KB segments and
// 32 MB buffers would swallow a whole clone and hide every deadline).
type slowLink struct {
	Rate   float64 // bytes per second, each way
	OneWay time.Duration
	// CutDown (CutUp) cuts the first connection once this many bytes
	// went down to (up from) the laptop; 0: never.
	CutDown, CutUp int64
	// Cuts, when set, says where the n-th connection (from 1) is cut
	// instead: bytes up, bytes down (0: not that way).
	Cuts func(n int64) (up, down int64)

	ln      net.Listener
	target  string
	up      linkWay
	down    linkWay
	stallMu sync.Mutex
	stalled time.Time // nothing moves before
	cut     atomic.Bool
	closed  chan struct{}
	conns   atomic.Int64
}

type linkWay struct {
	mu    sync.Mutex
	free  time.Time
	bytes atomic.Int64
}

// linkBuf is each socket's buffer: about what a 3G bottleneck queue and a
// server's autotuned send buffer hold together at these rates.
const linkBuf = 32 << 10

func smallSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1460); serr != nil {
			return
		}
		if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, linkBuf); serr != nil {
			return
		}
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, linkBuf)
	})
	if err != nil {
		return err
	}
	return serr
}

func newSlowLink(t testing.TB, target string, rate float64, oneWay time.Duration) *slowLink {
	lc := net.ListenConfig{Control: smallSocket}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := &slowLink{Rate: rate, OneWay: oneWay, ln: ln, target: target, closed: make(chan struct{})}
	t.Cleanup(func() { close(l.closed); ln.Close() })
	go l.accept()
	return l
}

func (l *slowLink) URL() string { return "http://" + l.ln.Addr().String() }

// Stall holds both ways for d from now.
func (l *slowLink) Stall(d time.Duration) {
	l.stallMu.Lock()
	l.stalled = time.Now().Add(d)
	l.stallMu.Unlock()
}

func (l *slowLink) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		n := l.conns.Add(1)
		go func() {
			d := net.Dialer{Control: smallSocket}
			s, err := d.Dial("tcp", l.target)
			if err != nil {
				c.Close()
				return
			}
			cut := &l.cut
			cutUp, cutDown := l.CutUp, l.CutDown
			if l.Cuts != nil {
				cut = new(atomic.Bool)
				cutUp, cutDown = l.Cuts(n)
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); l.pipe(s, c, &l.up, cut, cutUp); s.Close(); c.Close() }()
			go func() { defer wg.Done(); l.pipe(c, s, &l.down, cut, cutDown); c.Close(); s.Close() }()
			wg.Wait()
		}()
	}
}

type linkSeg struct {
	b  []byte
	at time.Time
}

// pipe carries src to dst; a segment leaves when the way is free and
// arrives OneWay later (and after any stall).
func (l *slowLink) pipe(dst, src net.Conn, w *linkWay, cut *atomic.Bool, cutAt int64) {
	q := make(chan linkSeg, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range q {
			for {
				l.stallMu.Lock()
				at := s.at
				if l.stalled.After(at) {
					at = l.stalled
				}
				l.stallMu.Unlock()
				wait := time.Until(at)
				if wait <= 0 {
					break
				}
				select {
				case <-time.After(wait):
				case <-l.closed:
					return
				}
			}
			if _, err := dst.Write(s.b); err != nil {
				for range q {
				}
				return
			}
		}
	}()
	var sent int64
	buf := make([]byte, 1460)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			b := append([]byte(nil), buf[:n]...)
			if cutAt > 0 && sent+int64(n) >= cutAt && cut.CompareAndSwap(false, true) {
				q <- l.schedule(w, b[:cutAt-sent])
				close(q)
				<-done
				src.Close()
				dst.Close()
				return
			}
			sent += int64(n)
			q <- l.schedule(w, b)
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-done
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// schedule books b on the way and blocks while the way's queue holds more
// than a second of sending (the bottleneck's buffer is full: the sender
// waits, as TCP's flow control makes it).
func (l *slowLink) schedule(w *linkWay, b []byte) linkSeg {
	w.mu.Lock()
	now := time.Now()
	start := now
	if w.free.After(start) {
		start = w.free
	}
	leave := start.Add(time.Duration(float64(len(b)) / l.Rate * float64(time.Second)))
	w.free = leave
	w.mu.Unlock()
	w.bytes.Add(int64(len(b)))
	if backlog := time.Until(leave); backlog > time.Second {
		time.Sleep(backlog - time.Second)
	}
	return linkSeg{b: b, at: leave.Add(l.OneWay)}
}

package agent_test

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// link3G is a TCP proxy that behaves like a 3G link, since these machines'
// kernels have no netem: every byte waits its turn on a shared link of
// Rate bits per second each way (all connections of the laptop share the
// radio), then OneWay of latency; one segment in a hundred (Loss) is
// "lost", which TCP answers with a retransmission a round trip later, so
// that segment and everything behind it on its connection stall for RTT
// (head-of-line blocking, as fast retransmit does). Its first connection
// whose client sends more than CutAfter bytes (0: never) is cut there.
// A new connection's first bytes arrive no sooner than TCP's handshake
// lets them (a round trip, then the one-way trip), and the radio's queue
// holds at most MaxQueue of sending time: beyond it the proxy stops
// reading, and TCP's flow control holds the sender back, as a full
// bottleneck queue does.
type link3G struct {
	Rate     float64 // bits per second, each way
	OneWay   time.Duration
	Loss     float64
	CutAfter int64
	MaxQueue time.Duration

	ln     net.Listener
	target string
	up     direction
	down   direction
	cut    atomic.Bool // the cut happened
	rng    *rand.Rand
	rngMu  sync.Mutex
	closed chan struct{}
}

// direction is one way of the shared radio link: when it is next free.
type direction struct {
	mu    sync.Mutex
	free  time.Time
	bytes atomic.Int64
}

const segment = 1460 // an MSS's worth

func newLink3G(t testing.TB, target string, cutAfter int64) *link3G {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := &link3G{Rate: 1e6, OneWay: 150 * time.Millisecond, Loss: 0.01, CutAfter: cutAfter, MaxQueue: 500 * time.Millisecond, ln: ln, target: target,
		rng: rand.New(rand.NewPCG(3, 3)), closed: make(chan struct{})}
	t.Cleanup(func() { close(l.closed); ln.Close() })
	go l.accept()
	return l
}

func (l *link3G) URL() string { return "http://" + l.ln.Addr().String() }

func (l *link3G) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			s, err := net.Dial("tcp", l.target)
			if err != nil {
				c.Close()
				return
			}
			armed := l.CutAfter > 0 && !l.cut.Load()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); l.pipe(s, c, &l.up, armed); s.Close(); c.Close() }()
			go func() { defer wg.Done(); l.pipe(c, s, &l.down, false); c.Close(); s.Close() }()
			wg.Wait()
		}()
	}
}

func (l *link3G) lost() bool {
	l.rngMu.Lock()
	defer l.rngMu.Unlock()
	return l.rng.Float64() < l.Loss
}

type inflight struct {
	b  []byte
	at time.Time
}

// pipe carries src to dst segment by segment, each delivered when the
// shared link and the latency let it arrive.
func (l *link3G) pipe(dst, src net.Conn, d *direction, cuttable bool) {
	q := make(chan inflight, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range q {
			if w := time.Until(s.at); w > 0 {
				select {
				case <-time.After(w):
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
	// SYN, SYN-ACK: the first data leaves a round trip after the connect.
	stallUntil := time.Now().Add(2 * l.OneWay)
	buf := make([]byte, segment)
	for {
		l.waitForRoom(d)
		n, err := src.Read(buf)
		if n > 0 {
			b := append([]byte(nil), buf[:n]...)
			if cuttable && sent+int64(n) > l.CutAfter && l.cut.CompareAndSwap(false, true) {
				b = b[:l.CutAfter-sent]
				q <- l.schedule(d, b, &stallUntil)
				close(q)
				<-done
				src.Close()
				dst.Close()
				return
			}
			sent += int64(n)
			q <- l.schedule(d, b, &stallUntil)
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

func (l *link3G) schedule(d *direction, b []byte, stallUntil *time.Time) inflight {
	d.mu.Lock()
	start := time.Now()
	if d.free.After(start) {
		start = d.free
	}
	leave := start.Add(time.Duration(float64(len(b)*8) / l.Rate * float64(time.Second)))
	d.free = leave
	d.mu.Unlock()
	d.bytes.Add(int64(len(b)))
	at := leave.Add(l.OneWay)
	if l.lost() {
		// Resent a round trip later; the stream behind it waits (TCP
		// delivers in order).
		at = at.Add(2 * l.OneWay)
	}
	if at.Before(*stallUntil) {
		at = *stallUntil
	}
	*stallUntil = at
	return inflight{b: b, at: at}
}

// waitForRoom blocks while the link's queue holds MaxQueue of sending.
func (l *link3G) waitForRoom(d *direction) {
	for {
		d.mu.Lock()
		backlog := time.Until(d.free)
		d.mu.Unlock()
		if backlog < l.MaxQueue {
			return
		}
		select {
		case <-time.After(backlog - l.MaxQueue + time.Millisecond):
		case <-l.closed:
			return
		}
	}
}

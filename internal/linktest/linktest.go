package linktest

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Link is the proxy. Every byte waits its turn on a link of Rate bytes a
// second each way, shared by all the laptop's connections (they share the
// radio), then arrives OneWay after it left. A new connection's first
// bytes arrive no sooner than TCP's handshake lets them (a round trip,
// then the one-way trip). A share Loss of segments is "lost", which TCP
// answers with a retransmission a round trip later, so that segment and
// everything behind it on its connection wait (head-of-line blocking).
// The radio's queue holds at most MaxQueue of sending: beyond it the proxy
// stops reading, and TCP's flow control holds the sender back. Stall holds
// both ways for a while (a tower hand-over, a lorry between the house and
// the mast). CutUp (CutDown) cuts the first connection whose bytes up from
// (down to) the laptop reach it; Cuts, when set, says where the n-th
// connection is cut instead.
//
// The sockets on both sides have a 1460-byte MSS and small buffers where
// the system allows it (Linux), so that a sender blocks as it would behind
// a real bottleneck: loopback's 64 KB segments and megabytes of buffers
// would swallow a whole clone and hide every deadline.
//
// Set the fields before the first connection.
type Link struct {
	Rate     float64 // bytes a second, each way
	OneWay   time.Duration
	Loss     float64 // share of segments resent a round trip later
	MaxQueue time.Duration
	// CutUp (CutDown) cuts the first connection once this many bytes went
	// up from (down to) the laptop; 0: never.
	CutUp, CutDown int64
	// Cuts, when set, says where the n-th connection (from 1) is cut
	// instead: bytes up, bytes down (0: not that way).
	Cuts func(n int64) (up, down int64)

	ln      net.Listener
	target  string
	up      way
	down    way
	stallMu sync.Mutex
	stalled time.Time // nothing arrives before
	cut     atomic.Bool
	conns   atomic.Int64
	rngMu   sync.Mutex
	rng     *rand.Rand
	closed  chan struct{}
}

// way is one way of the shared radio link.
type way struct {
	mu    sync.Mutex
	free  time.Time // when the link is next free to send
	bytes atomic.Int64
}

// segment is an MSS's worth.
const segment = 1460

// New starts a link to target (host:port) of rate bytes a second each way
// and oneWay latency, without loss, with a second of queue; it stops when
// tb ends.
func New(tb testing.TB, target string, rate float64, oneWay time.Duration) *Link {
	tb.Helper()
	lc := net.ListenConfig{Control: smallSocket}
	ln, err := lc.Listen(tb.Context(), "tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	l := &Link{Rate: rate, OneWay: oneWay, MaxQueue: time.Second, ln: ln, target: target,
		rng: rand.New(rand.NewPCG(3, 3)), closed: make(chan struct{})}
	tb.Cleanup(func() { close(l.closed); ln.Close() })
	go l.accept()
	return l
}

// URL is the link's end the agent dials.
func (l *Link) URL() string { return "http://" + l.ln.Addr().String() }

// Up and Down are the bytes that went up from and down to the laptop.
func (l *Link) Up() int64   { return l.up.bytes.Load() }
func (l *Link) Down() int64 { return l.down.bytes.Load() }

// Conns is the number of connections the laptop opened.
func (l *Link) Conns() int64 { return l.conns.Load() }

// Stall holds both ways for d from now.
func (l *Link) Stall(d time.Duration) {
	l.stallMu.Lock()
	l.stalled = time.Now().Add(d)
	l.stallMu.Unlock()
}

func (l *Link) accept() {
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

type inflight struct {
	b  []byte
	at time.Time
}

// pipe carries src to dst segment by segment, each delivered when the
// shared link, the latency and any stall let it arrive; it cuts the
// connection once cutAt bytes passed (0: never), unless cut already
// fired.
func (l *Link) pipe(dst, src net.Conn, w *way, cut *atomic.Bool, cutAt int64) {
	q := make(chan inflight, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range q {
			if !l.wait(s.at) {
				return
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
	arrived := time.Now().Add(2 * l.OneWay)
	buf := make([]byte, segment)
	for {
		l.waitForRoom(w)
		n, err := src.Read(buf)
		if n > 0 {
			b := append([]byte(nil), buf[:n]...)
			if cutAt > 0 && sent+int64(n) >= cutAt && cut.CompareAndSwap(false, true) {
				q <- l.schedule(w, b[:cutAt-sent], &arrived)
				close(q)
				<-done
				src.Close()
				dst.Close()
				return
			}
			sent += int64(n)
			q <- l.schedule(w, b, &arrived)
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

// wait sleeps until at and past any stall; false when the link closed.
func (l *Link) wait(at time.Time) bool {
	for {
		l.stallMu.Lock()
		if l.stalled.After(at) {
			at = l.stalled
		}
		l.stallMu.Unlock()
		d := time.Until(at)
		if d <= 0 {
			return true
		}
		select {
		case <-time.After(d):
		case <-l.closed:
			return false
		}
	}
}

// schedule books b on the way and says when it arrives: after the bytes
// before it on the way left, OneWay later, a round trip more when it is
// lost, and never before the bytes before it on its connection (TCP
// delivers in order).
func (l *Link) schedule(w *way, b []byte, arrived *time.Time) inflight {
	w.mu.Lock()
	start := time.Now()
	if w.free.After(start) {
		start = w.free
	}
	leave := start.Add(time.Duration(float64(len(b)) / l.Rate * float64(time.Second)))
	w.free = leave
	w.mu.Unlock()
	w.bytes.Add(int64(len(b)))
	at := leave.Add(l.OneWay)
	if l.lost() {
		at = at.Add(2 * l.OneWay)
	}
	if at.Before(*arrived) {
		at = *arrived
	}
	*arrived = at
	return inflight{b: b, at: at}
}

func (l *Link) lost() bool {
	if l.Loss <= 0 {
		return false
	}
	l.rngMu.Lock()
	defer l.rngMu.Unlock()
	return l.rng.Float64() < l.Loss
}

// waitForRoom blocks while the way's queue holds MaxQueue of sending.
func (l *Link) waitForRoom(w *way) {
	for {
		w.mu.Lock()
		backlog := time.Until(w.free)
		w.mu.Unlock()
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

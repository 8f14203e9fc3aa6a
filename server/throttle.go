package server

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// throttle slows down guessing: it counts failures per key (an enrollment
// client's address; a sign-in's account and address) and, once a key has
// failed `free` times, makes it wait before its next try, twice as long
// after each further failure, up to max. A key that has not failed for
// `forget` starts again from nothing. A success resets it.
//
// Only the key that failed waits: an attacker who knows a username but
// not the real user's address cannot lock the real user out, and an
// address that did not fail is never refused.
//
// Memory is bounded: keys are kept in least-recently-failed order, expired
// ones are swept by the server's background loop (sweep), and at capacity
// the least recently failed key is forgotten — the one nearest to being
// forgotten anyway.
//
// Each server process keeps its own: several processes behind a load
// balancer give a client that many budgets, each still growing its delays,
// which bounds guessing as well; nothing is written to the shared store
// on a wrong password or code.
type throttle struct {
	free   int
	base   time.Duration
	max    time.Duration
	forget time.Duration
	cap    int

	mu  sync.Mutex
	m   map[string]*list.Element
	lru list.List // of *throttleEntry, most recently failed first
}

type throttleEntry struct {
	key   string
	fails int
	last  time.Time // the latest failure
	until time.Time // no try before this
	// pending counts the tries begun and not yet ended (begin, end): each
	// may still fail, so tries made at once cannot all pass a key that
	// has fewer free tries left.
	pending int
}

func newThrottle(free int, base, max, forget time.Duration, capacity int) *throttle {
	return &throttle{free: free, base: base, max: max, forget: forget, cap: capacity, m: map[string]*list.Element{}}
}

// wait is how long key must still wait before its next try (0: go ahead).
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[key]
	if !ok {
		return 0
	}
	e := el.Value.(*throttleEntry)
	if t.expired(e, now) {
		t.drop(el)
		return 0
	}
	return max(0, e.until.Sub(now))
}

// fail records a failure of key and returns how long it must now wait.
func (t *throttle) fail(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[key]
	var e *throttleEntry
	if ok && !t.expired(el.Value.(*throttleEntry), now) {
		e = el.Value.(*throttleEntry)
		t.lru.MoveToFront(el)
	} else {
		if ok {
			t.drop(el)
		}
		for t.lru.Len() >= t.cap {
			t.drop(t.lru.Back())
		}
		e = &throttleEntry{key: key}
		t.m[key] = t.lru.PushFront(e)
	}
	e.fails++
	e.last = now
	if e.fails >= t.free {
		d := t.max
		if n := e.fails - t.free; n < 32 {
			d = min(t.base<<n, t.max)
		}
		e.until = now.Add(d)
	}
	return max(0, e.until.Sub(now))
}

// begin is wait for a try of key that is about to be made and, when it
// may go ahead (0), reserves it until end: tries sent at once are admitted
// only while the key's failures and the tries under way stay below free,
// then one at a time, as if they had come one after another. A wait
// answered only because other tries are under way is the base delay.
func (t *throttle) begin(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[key]
	if ok && t.expired(el.Value.(*throttleEntry), now) {
		t.drop(el)
		ok = false
	}
	var e *throttleEntry
	if ok {
		e = el.Value.(*throttleEntry)
		if w := e.until.Sub(now); w > 0 {
			return w
		}
		if e.pending > 0 && e.fails+e.pending >= t.free {
			return t.base
		}
	} else {
		for t.lru.Len() >= t.cap {
			t.drop(t.lru.Back())
		}
		e = &throttleEntry{key: key, last: now}
		t.m[key] = t.lru.PushFront(e)
	}
	e.pending++
	return 0
}

// end ends a try begin admitted, after its fail or reset.
func (t *throttle) end(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[key]
	if !ok {
		return
	}
	e := el.Value.(*throttleEntry)
	if e.pending > 0 {
		e.pending--
	}
	if e.pending == 0 && e.fails == 0 {
		t.drop(el)
	}
}

// reset forgets key's failures.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.m[key]; ok {
		t.drop(el)
	}
}

// sweep drops the keys that have expired.
func (t *throttle) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for el := t.lru.Back(); el != nil; {
		e := el.Value.(*throttleEntry)
		if !t.expired(e, now) {
			// Older failures are behind it; a later one may still wait
			// (a longer delay), so look on only while entries expire.
			return
		}
		prev := el.Prev()
		t.drop(el)
		el = prev
	}
}

func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

func (t *throttle) expired(e *throttleEntry, now time.Time) bool {
	return e.pending == 0 && now.Sub(e.last) >= t.forget && !now.Before(e.until)
}

func (t *throttle) drop(el *list.Element) {
	delete(t.m, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// addrKey is the throttle key of a client address: the address itself for
// IPv4, its /64 for IPv6 (one subscriber holds a whole /64, so single
// addresses would give one client 2^64 budgets).
func addrKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

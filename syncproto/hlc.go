package syncproto

import (
	"fmt"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: milliseconds since the Unix epoch in
// the high 48 bits and a logical counter in the low 16. Ordering HLCs as
// integers orders them as timestamps.
type HLC uint64

const logicalBits = 16
const logicalMask = 1<<logicalBits - 1

// MakeHLC builds a timestamp from wall milliseconds and a logical counter.
func MakeHLC(ms int64, logical uint16) HLC {
	if ms < 0 {
		ms = 0
	}
	return HLC(uint64(ms)<<logicalBits | uint64(logical))
}

// Millis is the physical part, in Unix milliseconds.
func (h HLC) Millis() int64 { return int64(h >> logicalBits) }

// Logical is the counter that orders events within one millisecond.
func (h HLC) Logical() uint16 { return uint16(h & logicalMask) }

// Time is the physical part as a time.Time in UTC.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Millis()).UTC() }

func (h HLC) String() string {
	return fmt.Sprintf("%s+%d", h.Time().Format("2006-01-02T15:04:05.000Z"), h.Logical())
}

// DefaultMaxSkew is how far ahead of the receiver's clock a timestamp may be
// before the receiver stops trusting it (docs/PROTOCOL.md §8.1).
const DefaultMaxSkew = 5 * time.Minute

// Clock is a hybrid logical clock. Its physical source is injected so the
// package never reads the wall clock itself; its offset corrects a laptop
// whose date is wrong by what the server told it at the last sync.
type Clock struct {
	mu      sync.Mutex
	wall    func() time.Time
	offset  time.Duration
	maxSkew time.Duration
	last    HLC
}

// NewClock returns a clock reading wall, refusing to be dragged more than
// maxSkew ahead of it (DefaultMaxSkew when maxSkew <= 0).
func NewClock(wall func() time.Time, maxSkew time.Duration) *Clock {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	return &Clock{wall: wall, maxSkew: maxSkew}
}

// MaxSkew is the bound this clock enforces.
func (c *Clock) MaxSkew() time.Duration { return c.maxSkew }

// SetOffset sets the correction added to the wall clock, learned from a
// reference clock (see EstimateOffset).
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// Offset is the current correction.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Restore seeds the clock with the highest timestamp it issued before a
// restart, so timestamps stay monotonic across process lifetimes.
func (c *Clock) Restore(last HLC) {
	c.mu.Lock()
	if last > c.last {
		c.last = last
	}
	c.mu.Unlock()
}

// Last is the highest timestamp issued or observed.
func (c *Clock) Last() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *Clock) physicalLocked() int64 {
	return c.wall().Add(c.offset).UnixMilli()
}

// PhysicalNow is the corrected wall time as an HLC with logical zero.
func (c *Clock) PhysicalNow() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return MakeHLC(c.physicalLocked(), 0)
}

func (c *Clock) tickLocked(floor HLC) HLC {
	pt := MakeHLC(c.physicalLocked(), 0)
	next := c.last + 1
	if pt > next {
		next = pt
	}
	if floor >= next {
		next = floor + 1
	}
	c.last = next
	return next
}

// Now issues a timestamp greater than every one issued or observed before.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickLocked(0)
}

// NowAfter issues a timestamp for a write that overwrites a value stamped
// base, so that the write beats its base under last-writer-wins even when the
// base came from a clock far ahead of ours. The clock itself only follows base
// if base is within the skew bound; otherwise the returned stamp is base+1 and
// the clock stays where it is, so one laptop a year ahead cannot drag ours.
func (c *Clock) NowAfter(base HLC) HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := MakeHLC(c.physicalLocked()+c.maxSkew.Milliseconds(), logicalMask)
	if base <= limit {
		return c.tickLocked(base)
	}
	h := c.tickLocked(0)
	if h <= base {
		h = base + 1
	}
	return h
}

// Observe merges a timestamp received from another replica into the clock, so
// that later local writes are ordered after it. A timestamp beyond the skew
// bound is not merged and returns an *Error with CodeClockSkew.
func (c *Clock) Observe(remote HLC) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.withinSkewLocked(remote) {
		return &Error{Code: CodeClockSkew, Msg: fmt.Sprintf("timestamp %s is more than %s ahead of this clock", remote, c.maxSkew)}
	}
	if remote > c.last {
		c.last = remote
	}
	return nil
}

func (c *Clock) withinSkewLocked(h HLC) bool {
	return h.Millis() <= c.physicalLocked()+c.maxSkew.Milliseconds()
}

// Admit is the server's guard: a timestamp within the skew bound is observed
// and returned unchanged; one beyond it is replaced by a fresh local timestamp
// (restamped = true) so a laptop set a year ahead neither wins every conflict
// nor drags the server's clock forward. floor is the HLC the write must beat
// (its base's stamp), so a restamped write still beats what it overwrote.
func (c *Clock) Admit(h, floor HLC) (admitted HLC, restamped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.withinSkewLocked(h) && h > floor {
		if h > c.last {
			c.last = h
		}
		return h, false
	}
	f := floor
	if !c.withinSkewLocked(f) {
		f = 0
	}
	return c.tickLocked(f), true
}

// EstimateOffset returns the correction to add to the local clock, NTP style,
// from a request sent at local time sent, answered with the reference time
// ref, received at local time received. It assumes a symmetric path.
func EstimateOffset(sent, received, ref time.Time) time.Duration {
	if received.Before(sent) {
		received = sent
	}
	mid := sent.Add(received.Sub(sent) / 2)
	return ref.Sub(mid).Round(time.Millisecond)
}

// MinCorrection is the smallest clock offset worth correcting. Laptops with
// wrong dates are off by minutes to years; below a second, an estimate taken
// over a loaded 3G link is mostly noise, and applying it would only jitter
// the order of writes from machines whose clocks are fine.
const MinCorrection = time.Second

// Correction is the offset a replica should apply after estimating off over
// a round trip of rtt: zero while the estimate cannot be told apart from the
// measurement's own uncertainty (half the round trip) plus MinCorrection.
func Correction(off, rtt time.Duration) time.Duration {
	if rtt < 0 {
		rtt = 0
	}
	if off < 0 && -off <= rtt/2+MinCorrection || off >= 0 && off <= rtt/2+MinCorrection {
		return 0
	}
	return off
}

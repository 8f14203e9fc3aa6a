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

// The clock bound (docs/PROTOCOL.md §8.6, DESIGN.md "Wrong clocks"): of
// two edits of one field, the one made more than ClockBound (ε) later in
// real time wins on every replica, when each laptop that made one
//
//   - pushed its edit at a sync less than SyncWithin (D) after the sync
//     before the edit, both syncs with a round trip under MaxRoundTrip;
//   - has a clock that drifts less than DriftRate (r) and at a steady rate:
//     its drift varies by less than DriftSteadiness between those syncs
//     (a clock off by a year, or drifting a steady second a day, is fine;
//     a clock changed by hand between two syncs is not).
//
// Under these conditions every stamp is within ClockError of the real
// time of its edit, so two edits more than twice that apart are stamped in
// their real-time order; and none is more than DefaultMaxSkew (τ =
// ClockError) ahead of the server when it arrives, so the server, which
// restamps anything further ahead, keeps them all. Hence ClockBound =
// DefaultMaxSkew + ClockError. The stamp's error is the offset's
// measurement (half the round trip, plus MinCorrection), the clock's
// departure from a steady rate between two syncs (DriftSteadiness·D/2),
// and its drift since the last measurement of a write pushed in the
// session that measured (DriftRate·Remeasure); see Restamp and
// CheckClockBound.
const (
	// ClockBound is ε.
	ClockBound = DefaultMaxSkew + ClockError
	// ClockError bounds how far a stamp of a laptop within the conditions
	// is from the real time of its edit: MaxRoundTrip/2 + MinCorrection +
	// DriftSteadiness·SyncWithin/2 + DriftRate·Remeasure ≤ 1 s.
	ClockError = time.Second
	// SyncWithin is D: the longest time between the sync before an edit
	// and the sync that pushes it.
	SyncWithin = 30 * 24 * time.Hour
	// DriftRate is r: a clock's drift, in seconds per day.
	DriftRate = 1.0
	// DriftSteadiness bounds how much a clock's drift varies between two
	// syncs, in seconds per day (3 % of DriftRate).
	DriftSteadiness = 0.03
	// MaxRoundTrip is the longest round trip of a sync whose measurement
	// keeps the bound: the offset is known to half of it.
	MaxRoundTrip = time.Second
	// Remeasure is how long a session's measurement of the offset serves:
	// a session that would push a write made later measures again first
	// (the agent reconnects), so a steady drift stays corrected.
	Remeasure = 10 * time.Minute
)

// DefaultMaxSkew is τ, how far ahead of the receiver's clock a timestamp
// may be before the receiver stops trusting it (docs/PROTOCOL.md §8.1): the
// server restamps a change stamped further ahead of its own clock, and no
// clock follows a stamp beyond it. It is ClockError: no stamp made within
// the clock bound's conditions is further ahead. (It was 5 minutes before
// the bound: a stamp up to 5 minutes ahead was kept, and beat edits made
// up to 5 minutes later.)
const DefaultMaxSkew = time.Second

// ClockWarnAfter is the offset beyond which a volunteer is asked to set
// the laptop's date and time. Any offset is corrected; one this large is a
// wrong date or time zone, worth fixing for the laptop's own sake.
const ClockWarnAfter = 5 * time.Minute

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
// reference clock (see EstimateOffset). A clock that issued stamps beyond
// the skew bound of the corrected time (a laptop a year ahead before its
// offset was known) forgets them: following them would keep stamping its
// writes a year ahead. A write over such a stamp still beats it
// (NowAfter).
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	if !c.withinSkewLocked(c.last) {
		c.last = 0
	}
	c.mu.Unlock()
}

// Offset is the current correction.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Restore seeds the clock with the highest timestamp it issued before a
// restart, so timestamps stay monotonic across process lifetimes. A stamp
// beyond the skew bound came from a wrong clock and is not followed (see
// SetOffset).
func (c *Clock) Restore(last HLC) {
	c.mu.Lock()
	if last > c.last && c.withinSkewLocked(last) {
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

// Admit is the server's guard: a timestamp within the skew bound is kept
// and returned unchanged; one beyond it is replaced by a fresh local
// timestamp (restamped = true) so a laptop set a year ahead neither wins
// every conflict nor drags the server's clock forward. floor is the HLC
// the write must beat (its base's stamp), so a restamped write still beats
// what it overwrote; one within the bound but not above floor is restamped
// to floor+1. A kept timestamp moves the clock at most to the
// server's own time: no device's stamp moves it further.
func (c *Clock) Admit(h, floor HLC) (admitted HLC, restamped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.withinSkewLocked(h) && h > floor {
		if now := MakeHLC(c.physicalLocked(), logicalMask); h > c.last {
			c.last = min(h, now)
		}
		return h, false
	}
	if c.withinSkewLocked(h) && c.withinSkewLocked(floor) {
		// Stamped not above its base (a writer's clock behind the base's):
		// just above it, not at the server's time, which may be days after
		// the write was made.
		return floor + 1, true
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

// MinCorrection is the smallest clock offset worth correcting: below it,
// a laptop whose clock is right (NTP) keeps its own time. It is part of
// ClockError.
const MinCorrection = 20 * time.Millisecond

// Correction is the offset a replica applies after estimating off
// (EstimateOffset). The estimate is right to within half its round trip
// whatever the path's asymmetry, which is better than keeping the old
// offset or none: it is applied unless it is below MinCorrection.
func Correction(off time.Duration) time.Duration {
	if off > -MinCorrection && off < MinCorrection {
		return 0
	}
	return off
}

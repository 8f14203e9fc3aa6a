package syncproto

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The clock bound's property test: laptops whose clocks are right, off by
// a constant (a year ahead, a year behind, minutes, a second), drifting
// (up to a second a day, unsteady within the bound's conditions, over up
// to 30 days offline), or changed by hand between two writes, edit the
// same fields in bursts seconds apart and sync with a server at random
// times over round trips up to a second, with acknowledgements lost. The
// model composes the syncproto pieces the agent and the server compose
// (EstimateOffset, Correction, Clock.SetOffset, Stamp, Restamp above what
// the server holds and what was sent, Admit, Resolve, Observe), and
// CheckClockBound judges every pair of edits of one field at the end.

var flagClockSchedules = flag.Int("clock-schedules", 300, "random schedules the clock bound's property test runs")

// clockPolicy is how the clocks are kept: this release's, or the one
// before (5 minutes of trust, no restamp of pending writes, offsets below
// a second plus half the round trip ignored, SetOffset keeping a
// wrong-date stamp, the server following any stamp it keeps).
type clockPolicy struct {
	name       string
	tau        time.Duration
	restamp    bool
	correction func(off, rtt time.Duration) time.Duration
}

var (
	thisPolicy = clockPolicy{name: "this release", tau: DefaultMaxSkew, restamp: true,
		correction: func(off, _ time.Duration) time.Duration { return Correction(off) }}
	fiveMinutePolicy = clockPolicy{name: "5-minute skew", tau: 5 * time.Minute,
		correction: func(off, rtt time.Duration) time.Duration {
			if off < 0 && -off <= rtt/2+time.Second || off >= 0 && off <= rtt/2+time.Second {
				return 0
			}
			return off
		}}
)

const (
	msDay  = int64(24 * time.Hour / time.Millisecond)
	msYear = 365 * msDay
)

// knot starts a piece of a clock's error (ms): err = at + rate·(T − from).
type knot struct {
	from int64
	at   float64
	rate float64 // ms per ms
}

type simLaptop struct {
	id     ReplicaID
	kind   string
	knots  []knot
	jumps  []int64 // true times its clock was changed by hand
	clock  *Clock
	sample ClockSample
	syncs  []int64 // true times of its syncs
	seq    uint64
	sent   uint64
	out    []*simPending // pending, or sent and not acknowledged
	local  map[FieldKey]Version
	cursor int
}

type simPending struct {
	c       Change
	wall    int64
	baseHLC HLC
	final   bool
	made    int64
}

// errAt is the laptop clock's error at true time T, ms.
func (l *simLaptop) errAt(T int64) float64 {
	k := l.knots[0]
	for _, n := range l.knots[1:] {
		if n.from > T {
			break
		}
		k = n
	}
	return k.at + k.rate*float64(T-k.from)
}

func (l *simLaptop) wallAt(T int64) int64 { return T + int64(l.errAt(T)) }

type simServer struct {
	clock *Clock
	cur   map[FieldKey]Version
	log   []Change
	max   map[ReplicaID]uint64
	first map[Dot]HLC // the HLC a change was first pushed with (the server's digest)
	final map[Dot]HLC
}

type clockSim struct {
	t       testing.TB
	rng     *rand.Rand
	pol     clockPolicy
	now     int64
	start   int64
	server  *simServer
	laptops []*simLaptop
	keys    []FieldKey
	edits   map[Dot]*BoundEdit
	pushed  map[Dot]int64 // true time of an edit's first push
	before  map[Dot]int64 // true time of the sync before an edit (-1: none)
	author  map[Dot]*simLaptop
}

func newClockSim(t testing.TB, seed uint64, pol clockPolicy) *clockSim {
	s := &clockSim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x51ed27)), pol: pol, now: epoch.UnixMilli(),
		edits: map[Dot]*BoundEdit{}, pushed: map[Dot]int64{}, before: map[Dot]int64{}, author: map[Dot]*simLaptop{}}
	s.start = s.now
	s.server = &simServer{clock: NewClock(func() time.Time { return time.UnixMilli(s.now) }, pol.tau),
		cur: map[FieldKey]Version{}, max: map[ReplicaID]uint64{}, first: map[Dot]HLC{}, final: map[Dot]HLC{}}
	for i := 0; i < 2; i++ {
		row := uuid.UUID{0xab, byte(i)}
		for _, f := range []string{"phone", "members_count"} {
			s.keys = append(s.keys, FieldKey{Table: "households", Row: row, Field: f})
		}
	}
	kinds := []string{"right", "year ahead", "year behind", "minutes ahead", "minutes behind", "a second off",
		"drifting", "drifting", "changed by hand"}
	n := 3 + s.rng.IntN(3)
	for i := 0; i < n; i++ {
		kind := kinds[s.rng.IntN(len(kinds))]
		if i == 0 {
			kind = "right" // one laptop always right: the others' mistakes show against it
		}
		s.laptops = append(s.laptops, s.newLaptop(i, kind))
	}
	return s
}

func (s *clockSim) newLaptop(i int, kind string) *simLaptop {
	l := &simLaptop{id: uuid.UUID{byte(i + 1), byte(s.rng.IntN(256))}, kind: kind, local: map[FieldKey]Version{}}
	sign := float64(1 - 2*s.rng.IntN(2))
	k := knot{from: s.start, at: float64(s.rng.IntN(20)) * sign} // NTP: a few ms
	switch kind {
	case "year ahead":
		k.at = float64(msYear)
	case "year behind":
		k.at = -float64(msYear)
	case "minutes ahead":
		k.at = float64(3*60_000 + s.rng.IntN(120_000))
	case "minutes behind":
		k.at = -float64(3*60_000 + s.rng.IntN(120_000))
	case "a second off":
		k.at = sign * float64(500+s.rng.IntN(1500))
	case "drifting":
		// A steady drift of up to DriftRate (a second a day), which changes
		// by up to DriftSteadiness every few days.
		steady := (DriftRate - DriftSteadiness) * (2*s.rng.Float64() - 1)
		k.at = float64(s.rng.IntN(60_000)) * sign
		rate := func() float64 {
			return (steady + DriftSteadiness*(2*s.rng.Float64()-1)) * 1000 / float64(msDay)
		}
		k.rate = rate()
		l.knots = []knot{k}
		for T := s.start; T < s.start+70*msDay; T += msDay * int64(1+s.rng.IntN(5)) {
			l.knots = append(l.knots, knot{from: T, at: l.errAt(T), rate: rate()})
		}
		l.knots[0] = k
	case "changed by hand":
		l.knots = []knot{k}
		for j := 0; j < 1+s.rng.IntN(3); j++ {
			T := s.start + s.rng.Int64N(60*msDay)
			jump := []int64{msYear, -msYear, msDay, -3_600_000, 120_000, -90_000}[s.rng.IntN(6)]
			l.knots = append(l.knots, knot{from: T, at: l.errAt(T) + float64(jump)})
			slices.SortFunc(l.knots, func(a, b knot) int { return int(a.from - b.from) })
			l.jumps = append(l.jumps, T)
		}
	}
	if l.knots == nil {
		l.knots = []knot{k}
	}
	l.clock = NewClock(func() time.Time { return time.UnixMilli(l.wallAt(s.now)) }, s.pol.tau)
	return l
}

// write is an edit of field k by l at the current true time.
func (s *clockSim) write(l *simLaptop, k FieldKey) {
	var cur *Version
	if v, ok := l.local[k]; ok {
		cur = &v
	}
	c := Change{Table: k.Table, Row: k.Row, Field: k.Field, Scope: "32002-01"}
	if k.Field == "phone" {
		c.Value = String(fmt.Sprintf("09%08d", s.rng.IntN(1e8)))
	} else {
		c.Value = Int(int64(1 + s.rng.IntN(9)))
	}
	l.seq++
	v := Stamp(&c, l.clock, Dot{Replica: l.id, Seq: l.seq}, cur)
	p := &simPending{c: c, wall: l.wallAt(s.now), made: s.now}
	if cur != nil {
		p.baseHLC = cur.HLC
	}
	l.out = append(l.out, p)
	l.local[k] = v
	s.edits[c.Dot] = &BoundEdit{Key: k, Dot: c.Dot, At: time.UnixMilli(s.now)}
	s.author[c.Dot] = l
	s.before[c.Dot] = -1
	if len(l.syncs) > 0 {
		s.before[c.Dot] = l.syncs[len(l.syncs)-1]
	}
}

// sync is one session of l ending at the current true time: Hello sent a
// round trip ago, the clock measured from Welcome and the pending writes
// restamped, then push, then pull. lostAck: the connection drops before
// the Ack arrives.
func (s *clockSim) sync(l *simLaptop, lostAck bool) {
	rtt := int64(1 + s.rng.IntN(int(MaxRoundTrip/time.Millisecond)))
	there := s.rng.Int64N(rtt + 1) // any asymmetry
	sent, received := time.UnixMilli(l.wallAt(s.now-rtt)), time.UnixMilli(l.wallAt(s.now))
	serverTime := time.UnixMilli(s.now - rtt + there)
	off := s.pol.correction(EstimateOffset(sent, received, serverTime), received.Sub(sent))
	next := ClockSample{Wall: sent.Add(received.Sub(sent) / 2).UnixMilli(), Offset: off.Milliseconds()}
	pushed := s.server.max[l.id]
	if s.pol.restamp {
		var idx []int
		var ws []PendingWrite
		for i, p := range l.out {
			if p.c.Dot.Seq > max(pushed, l.sent) && !p.final {
				idx = append(idx, i)
				ws = append(ws, PendingWrite{Dot: p.c.Dot, Base: p.c.Base, BaseHLC: p.baseHLC, Wall: p.wall, HLC: p.c.HLC})
			}
		}
		for j, h := range Restamp(ws, l.sample, next) {
			p := l.out[idx[j]]
			p.final = true
			for _, q := range l.out {
				if q.c.Base == p.c.Dot {
					q.baseHLC = h
				}
			}
			if v, ok := l.local[p.c.Key()]; ok && v.Dot == p.c.Dot {
				v.HLC = h
				l.local[p.c.Key()] = v
			}
			p.c.HLC = h
		}
	}
	last := l.clock.Last()
	l.clock.SetOffset(off)
	if !s.pol.restamp { // the clock before this release kept its last stamp
		l.clock.mu.Lock()
		l.clock.last = max(l.clock.last, last)
		l.clock.mu.Unlock()
	}
	l.sample = next
	l.syncs = append(l.syncs, s.now)

	// Push everything not acknowledged, in order.
	results := make([]HLC, len(l.out))
	for i, p := range l.out {
		l.sent = max(l.sent, p.c.Dot.Seq)
		results[i] = s.server.push(s, p.c)
		if _, ok := s.pushed[p.c.Dot]; !ok {
			s.pushed[p.c.Dot] = s.now
		}
	}
	if lostAck {
		return
	}
	for i, p := range l.out {
		if h := results[i]; h != 0 && h != p.c.HLC {
			if v, ok := l.local[p.c.Key()]; ok && v.Dot == p.c.Dot {
				v.HLC = h
				l.local[p.c.Key()] = v
			}
			for _, q := range l.out {
				if q.c.Base == p.c.Dot {
					q.baseHLC = h
				}
			}
		}
	}
	l.out = nil

	// Pull the others' changes.
	for ; l.cursor < len(s.server.log); l.cursor++ {
		c := s.server.log[l.cursor]
		if c.Dot.Replica == l.id {
			continue
		}
		_ = l.clock.Observe(c.HLC)
		var cur *Version
		if v, ok := l.local[c.Key()]; ok {
			cur = &v
		}
		ApplyOutcome(Resolve(cur, &c), cur, &c, func(v Version) { l.local[c.Key()] = v })
	}
}

// push is the server taking one change: the HLC it answers with (0: a
// duplicate, answered without one).
func (sv *simServer) push(s *clockSim, c Change) HLC {
	if c.Dot.Seq <= sv.max[c.Dot.Replica] {
		require.Equal(s.t, sv.first[c.Dot], c.HLC, "change %v pushed again with another stamp: the server would take it for a fork", c.Dot)
		return 0
	}
	require.Equal(s.t, sv.max[c.Dot.Replica]+1, c.Dot.Seq, "no gap")
	sv.max[c.Dot.Replica] = c.Dot.Seq
	sv.first[c.Dot] = c.HLC
	var curp *Version
	var floor HLC
	if cur, ok := sv.cur[c.Key()]; ok {
		curp = &cur
		if c.Base == cur.Dot {
			floor = cur.HLC
		}
	}
	h, restamped := sv.clock.Admit(c.HLC, floor)
	if !restamped && !s.pol.restamp { // the server before this release followed it
		sv.clock.mu.Lock()
		sv.clock.last = max(sv.clock.last, h)
		sv.clock.mu.Unlock()
	}
	c.HLC = h
	ApplyOutcome(Resolve(curp, &c), curp, &c, func(v Version) { sv.cur[c.Key()] = v })
	sv.log = append(sv.log, c)
	sv.final[c.Dot] = h
	return h
}

// run plays a schedule over about 60 days: bursts of edits of one field by
// several laptops seconds apart, and syncs: some laptops sync every few
// hours, others stay offline for up to 29 days (now and then 40).
func (s *clockSim) run() {
	type event struct {
		at   int64
		l    *simLaptop
		k    FieldKey
		sync bool
	}
	var evs []event
	for _, l := range s.laptops {
		T := s.start + s.rng.Int64N(2*msDay)
		if l.kind == "year ahead" || l.kind == "year behind" || s.rng.IntN(3) == 0 {
			T += s.rng.Int64N(5 * msDay) // writes before its first sync
		}
		for T < s.start+60*msDay {
			evs = append(evs, event{at: T, l: l, sync: true})
			switch s.rng.IntN(4) {
			case 0:
				T += s.rng.Int64N(6 * 3_600_000)
			case 1, 2:
				T += s.rng.Int64N(29 * msDay)
			default:
				T += s.rng.Int64N(40 * msDay)
			}
		}
	}
	for b := 0; b < 30; b++ {
		T := s.start + s.rng.Int64N(60*msDay)
		k := s.keys[s.rng.IntN(len(s.keys))]
		for i := 0; i < 2+s.rng.IntN(4); i++ {
			l := s.laptops[s.rng.IntN(len(s.laptops))]
			evs = append(evs, event{at: T + s.rng.Int64N(12_000), l: l, k: k})
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int { return int(a.at - b.at) })
	for _, e := range evs {
		s.now = max(s.now, e.at)
		if e.sync {
			s.sync(e.l, s.rng.IntN(10) == 0)
		} else {
			s.write(e.l, e.k)
		}
	}
	for round := 0; round < 2; round++ { // everyone pushes and pulls everything
		for _, l := range s.laptops {
			s.now += 60_000
			s.sync(l, false)
		}
	}
}

// judged gives every edit its final stamp and whether its laptop met the
// bound's conditions for it: it synced before the edit and pushed it at a
// sync less than D later, and its clock was not changed by hand between;
// or it never synced before, and its clock is merely off.
func (s *clockSim) judged() []BoundEdit {
	out := make([]BoundEdit, 0, len(s.edits))
	for d, e := range s.edits {
		l, before, pushed := s.author[d], s.before[d], s.pushed[d]
		changed := slices.ContainsFunc(l.jumps, func(j int64) bool { return j > before && j <= pushed })
		if before < 0 {
			e.InBound = l.kind != "drifting" && !changed && !slices.ContainsFunc(l.jumps, func(j int64) bool { return j <= pushed })
		} else {
			e.InBound = pushed-before < SyncWithin.Milliseconds() && !changed
		}
		e.HLC = s.server.final[d]
		out = append(out, *e)
	}
	return out
}

func TestClockBoundHoldsWithWrongClocks(t *testing.T) {
	judged, outside := 0, 0
	for seed := uint64(1); seed <= uint64(*flagClockSchedules); seed++ {
		s := newClockSim(t, seed, thisPolicy)
		s.run()
		edits := s.judged()
		v := CheckClockBound(edits, ClockBound)
		require.Empty(t, v, "seed %d (laptops %v): the later edit lost:\n%v", seed, s.kinds(), v)
		for _, e := range edits {
			if e.InBound {
				judged++
				continue
			}
			// Outside the conditions an edit is still stamped between the
			// sync before it and the push, give or take the bound.
			outside++
			before, pushed := s.before[e.Dot], s.pushed[e.Dot]
			if before >= 0 {
				require.GreaterOrEqual(t, e.HLC.Millis(), before-ClockError.Milliseconds(), "seed %d: %s edit %v stamped before the sync before it", seed, s.author[e.Dot].kind, e.Dot)
			}
			require.LessOrEqual(t, e.HLC.Millis(), pushed+ClockBound.Milliseconds(), "seed %d: %s edit %v stamped after its push", seed, s.author[e.Dot].kind, e.Dot)
		}
		for _, l := range s.laptops {
			require.Equal(t, s.server.cur, l.local, "seed %d: laptop %s converged", seed, l.kind)
		}
	}
	t.Logf("%d schedules: %d edits judged against the bound, %d outside its conditions", *flagClockSchedules, judged, outside)
}

// The same schedules with the clocks kept as before this release break the
// bound: the check can fail, and does on what the issue saw.
func TestClockBoundBrokenByTheFiveMinuteSkew(t *testing.T) {
	var first []BoundViolation
	broken := 0
	for seed := uint64(1); seed <= 50; seed++ {
		s := newClockSim(t, seed, fiveMinutePolicy)
		s.run()
		if v := CheckClockBound(s.judged(), ClockBound); len(v) > 0 {
			broken++
			if first == nil {
				first = v
				t.Logf("seed %d (laptops %v), %d violations, the first: %s", seed, s.kinds(), len(v), v[0])
			}
		}
	}
	require.NotZero(t, broken, "the 5-minute skew must break the bound")
	t.Logf("%d of 50 schedules broke the bound", broken)
}

func (s *clockSim) kinds() []string {
	var out []string
	for _, l := range s.laptops {
		out = append(out, l.kind)
	}
	return out
}

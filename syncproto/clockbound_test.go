package syncproto

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestOffsetAtInterpolatesASteadyDrift(t *testing.T) {
	day := int64(24 * time.Hour / time.Millisecond)
	prev := ClockSample{Wall: 1_000 * day, Offset: 0}
	next := ClockSample{Wall: 1_030 * day, Offset: -30_000} // 1 s a day fast, 30 days
	cases := []struct {
		name string
		prev ClockSample
		wall int64
		want int64
	}{
		{"halfway", prev, 1_015 * day, -15_000},
		{"a day in", prev, 1_001 * day, -1_000},
		{"before the previous sync", prev, 999 * day, 0},
		{"after this sync", prev, 1_031 * day, -30_000},
		{"never measured before: merely off", ClockSample{}, 1_001 * day, -30_000},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, OffsetAt(tc.prev, next, tc.wall), tc.name)
	}
}

func TestRestamp(t *testing.T) {
	self, other := uuid.UUID{1}, uuid.UUID{2}
	year := int64(365 * 24 * time.Hour / time.Millisecond)
	t0 := epoch.UnixMilli()
	dot := func(r uuid.UUID, s uint64) Dot { return Dot{Replica: r, Seq: s} }
	cases := []struct {
		name       string
		prev, next ClockSample
		ws         []PendingWrite
		want       []HLC
	}{{
		name: "a laptop a year ahead that never synced: shifted back by what its first sync measured",
		next: ClockSample{Wall: t0 + year + 60_000, Offset: -year},
		ws: []PendingWrite{{Dot: dot(self, 1), Wall: t0 + year, HLC: MakeHLC(t0+year, 0)},
			{Dot: dot(self, 2), Wall: t0 + year + 10_000, HLC: MakeHLC(t0+year+10_000, 0)}},
		want: []HLC{MakeHLC(t0, 0), MakeHLC(t0+10_000, 0)},
	}, {
		name: "a laptop a year behind: shifted forward",
		next: ClockSample{Wall: t0 - year + 60_000, Offset: year},
		ws:   []PendingWrite{{Dot: dot(self, 1), Wall: t0 - year, HLC: MakeHLC(t0-year, 0)}},
		want: []HLC{MakeHLC(t0, 0)},
	}, {
		name: "its own later write of the field stays above the earlier one",
		next: ClockSample{Wall: t0 + year + 60_000, Offset: -year},
		ws: []PendingWrite{{Dot: dot(self, 1), Wall: t0 + year, HLC: MakeHLC(t0+year, 0)},
			{Dot: dot(self, 2), Base: dot(self, 1), BaseHLC: MakeHLC(t0+year, 0), Wall: t0 + year, HLC: MakeHLC(t0+year, 1)}},
		want: []HLC{MakeHLC(t0, 0), MakeHLC(t0, 1)},
	}, {
		name: "a write over another's value stays above it",
		next: ClockSample{Wall: t0 + 60_000, Offset: -5_000},
		ws: []PendingWrite{{Dot: dot(self, 1), Base: dot(other, 9), BaseHLC: MakeHLC(t0+500, 3), Wall: t0 + 1_000,
			HLC: MakeHLC(t0+1_000, 0)}},
		want: []HLC{MakeHLC(t0+500, 4)},
	}, {
		name: "over a value whose stamp is unknown: never lowered",
		next: ClockSample{Wall: t0 + 60_000, Offset: -5_000},
		ws:   []PendingWrite{{Dot: dot(self, 1), Base: dot(other, 9), Wall: t0 + 1_000, HLC: MakeHLC(t0+1_000, 0)}},
		want: []HLC{MakeHLC(t0+1_000, 0)},
	}, {
		name: "a clock set back a year by hand before the write: the offset measured after it holds",
		prev: ClockSample{Wall: t0, Offset: 0},
		next: ClockSample{Wall: t0 + 7_200_000 - year, Offset: year},
		ws:   []PendingWrite{{Dot: dot(self, 1), Wall: t0 + 3_600_000 - year, HLC: MakeHLC(t0+3_600_000-year, 0)}},
		want: []HLC{MakeHLC(t0+3_600_000, 0)},
	}}
	for _, tc := range cases {
		require.Equal(t, tc.want, Restamp(tc.ws, tc.prev, tc.next), tc.name)
	}

	// Set a year ahead by hand after the write: the interpolation spreads
	// the year over the two hours between the syncs, so the write is
	// stamped wrong, but never before the previous sync nor after this one.
	prev := ClockSample{Wall: t0, Offset: 0}
	next := ClockSample{Wall: t0 + 7_200_000 + year, Offset: -year}
	h := Restamp([]PendingWrite{{Dot: dot(self, 1), Wall: t0 + 3_600_000, HLC: MakeHLC(t0+3_600_000, 0)}}, prev, next)[0]
	require.GreaterOrEqual(t, h.Millis(), prev.Time())
	require.LessOrEqual(t, h.Millis(), next.Time())
}

func TestCheckClockBound(t *testing.T) {
	a, b := uuid.UUID{0xa}, uuid.UUID{0xb}
	key := FieldKey{Table: "households", Row: uuid.UUID{7}, Field: "phone"}
	at := func(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }
	edit := func(r uuid.UUID, seq uint64, made float64, stamp float64, in bool) BoundEdit {
		return BoundEdit{Key: key, Dot: Dot{Replica: r, Seq: seq}, At: at(made), HLC: MakeHLC(at(stamp).UnixMilli(), 0), InBound: in}
	}
	cases := []struct {
		name  string
		edits []BoundEdit
		bad   int
	}{
		{"later wins", []BoundEdit{edit(a, 1, 0, 0.9, true), edit(b, 1, 3, 2.1, true)}, 0},
		{"within ε either may win", []BoundEdit{edit(a, 1, 0, 1, true), edit(b, 1, 1.5, 0.5, true)}, 0},
		{"later by more than ε loses", []BoundEdit{edit(a, 1, 0, 300, true), edit(b, 1, 60, 60, true)}, 1},
		{"outside the conditions: not judged", []BoundEdit{edit(a, 1, 0, 300, false), edit(b, 1, 60, 60, true)}, 0},
		{"every later edit is judged", []BoundEdit{edit(a, 1, 0, 300, true), edit(b, 1, 60, 60, true), edit(b, 2, 120, 120, true)}, 2},
	}
	for _, tc := range cases {
		v := CheckClockBound(tc.edits, ClockBound)
		require.Len(t, v, tc.bad, "%s: %v", tc.name, v)
	}
}

// A folder copied to a laptop whose clock is off carries its original's
// measurement (prev, of another clock): interpolated between the two, an
// edit the copy made just before its sync was stamped at the sync's time;
// OtherClock holds the copy's own offset throughout, prev still the floor.
func TestRestampOtherClock(t *testing.T) {
	self := uuid.UUID{1}
	year := int64(365 * 24 * time.Hour / time.Millisecond)
	t0 := epoch.UnixMilli()
	prev := ClockSample{Wall: t0, Offset: 0} // the original, right, at its last sync
	for _, off := range []int64{0, year, -year} {
		// The copy's clock reads off ahead; it syncs an hour after t0 and
		// made its edit 10 s before.
		next := ClockSample{Wall: t0 + 3_600_000 + off, Offset: -off}
		w := PendingWrite{Dot: Dot{self, 1}, Wall: t0 + 3_590_000 + off, HLC: MakeHLC(t0+3_590_000+off, 0)}
		got := Restamp([]PendingWrite{w}, OtherClock(prev, next), next)
		require.Equal(t, MakeHLC(t0+3_590_000, 0), got[0], "copy's clock %+d ms: stamped when it was made", off)
		// Made, by its clock, before the original's last sync (impossible
		// for a copy): no earlier than that sync.
		w.Wall = t0 - 60_000 + off
		got = Restamp([]PendingWrite{w}, OtherClock(prev, next), next)
		require.Equal(t, MakeHLC(t0, 0), got[0], "copy's clock %+d ms: floored at prev", off)
	}
	require.Equal(t, ClockSample{}, OtherClock(ClockSample{}, ClockSample{Wall: t0, Offset: 5}), "never measured: stays so")
}

// Jumped: an offset that moved more than a clock within the bound drifts
// between two measurements (each within ClockError) is another clock.
func TestJumped(t *testing.T) {
	day := int64(24 * time.Hour / time.Millisecond)
	t0 := epoch.UnixMilli()
	for _, tc := range []struct {
		name       string
		prev, next ClockSample
		want       bool
	}{
		{"never measured", ClockSample{}, ClockSample{Wall: t0, Offset: 5}, false},
		{"steady", ClockSample{Wall: t0, Offset: 100}, ClockSample{Wall: t0 + day, Offset: 100}, false},
		{"drift and error within", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 30*day, Offset: 31_900}, false},
		{"a copy a year ahead", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 365*day + 3_600_000, Offset: -365 * day}, true},
		{"set right after a year behind", ClockSample{Wall: t0, Offset: 365 * day}, ClockSample{Wall: t0 + 365*day + 60_000, Offset: 10}, true},
		{"a time zone", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 3_600_000 + 60_000, Offset: -3_600_000}, true},
		{"a time zone 120 days on", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 120*day, Offset: -3_600_000}, true},
		{"3 s a day fast for 29 days", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 29*day, Offset: -87_000}, false},
		{"5 s a day slow for 60 days", ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 60*day, Offset: 300_000}, false},
	} {
		require.Equal(t, tc.want, Jumped(tc.prev, tc.next), tc.name)
	}
}

// Restamp across a jump (Jumped): each write takes the one of the two
// offsets that puts it between the two syncs, next's when both do.
func TestRestampJumped(t *testing.T) {
	day := int64(24 * time.Hour / time.Millisecond)
	year := 365 * day
	t0 := epoch.UnixMilli()
	rep := ReplicaID{7}
	w := func(seq uint64, wall int64) PendingWrite {
		return PendingWrite{Dot: Dot{Replica: rep, Seq: seq}, Wall: wall, HLC: MakeHLC(wall, 0)}
	}
	before := func(p PendingWrite) PendingWrite {
		p.BeforeSetBack = true
		return p
	}
	for _, tc := range []struct {
		name       string
		prev, next ClockSample
		ws         []PendingWrite
		want       []int64 // corrected times, ms
	}{
		{"right, set a year back after an edit",
			ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + day - year, Offset: year},
			[]PendingWrite{w(1, t0+600_000), w(2, t0+7_200_000-year)}, []int64{t0 + 600_000, t0 + 7_200_000}},
		{"a year behind, set right after an edit",
			ClockSample{Wall: t0 - year, Offset: year}, ClockSample{Wall: t0 + day, Offset: 0},
			[]PendingWrite{w(1, t0+600_000-year), w(2, t0+7_200_000)}, []int64{t0 + 600_000, t0 + 7_200_000}},
		{"a copy a year ahead (next's offset throughout)",
			ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + day + year, Offset: -year},
			[]PendingWrite{w(1, t0+600_000+year)}, []int64{t0 + 600_000}},
		{"an hour on: both fall between the syncs, next's",
			ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + day + 3_600_000, Offset: -3_600_000},
			[]PendingWrite{w(1, t0+7_200_000)}, []int64{t0 + 3_600_000}},
		{"neither: clamped",
			ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + day + year, Offset: -year},
			[]PendingWrite{w(1, t0+2*year)}, []int64{t0 + day}},
		// Right at the sync, a write an hour later, the clock set three days
		// back that evening and the agent seeing it, a write the next day,
		// a sync six days later: both offsets put the first write between
		// the syncs; made before the set-back was seen, it takes prev's.
		{"right, set three days back: a write before the set-back was seen takes prev's",
			ClockSample{Wall: t0, Offset: 0}, ClockSample{Wall: t0 + 3*day, Offset: 3 * day},
			[]PendingWrite{before(w(1, t0+3_600_000)), w(2, t0+2*day-3*day)}, []int64{t0 + 3_600_000, t0 + 2*day}},
	} {
		got := Restamp(tc.ws, tc.prev, tc.next)
		require.True(t, Jumped(tc.prev, tc.next), tc.name)
		for i := range got {
			require.Equal(t, tc.want[i], got[i].Millis(), "%s: write %d", tc.name, i)
		}
	}
}

package syncproto

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// fakeWall is a settable wall clock.
type fakeWall struct{ t time.Time }

func (f *fakeWall) now() time.Time          { return f.t }
func (f *fakeWall) advance(d time.Duration) { f.t = f.t.Add(d) }

var epoch = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func TestClockIsMonotonicEvenWhenTheWallGoesBack(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, 0)
	a := c.Now()
	b := c.Now()
	require.Greater(t, b, a)
	require.Equal(t, a.Millis(), b.Millis(), "same millisecond: the logical counter orders them")
	require.Equal(t, a.Logical()+1, b.Logical())
	w.advance(-time.Hour) // the volunteer fixes the laptop's date backwards
	require.Greater(t, c.Now(), b)
	w.advance(2 * time.Hour)
	d := c.Now()
	require.Equal(t, uint16(0), d.Logical(), "a new millisecond restarts the counter")
}

func TestClockObserveWithinAndBeyondSkew(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, 5*time.Minute)
	near := MakeHLC(epoch.Add(4*time.Minute).UnixMilli(), 7)
	require.NoError(t, c.Observe(near))
	require.Greater(t, c.Now(), near, "a write after seeing another is ordered after it")

	far := MakeHLC(epoch.AddDate(1, 0, 0).UnixMilli(), 0)
	err := c.Observe(far)
	require.ErrorIs(t, err, ErrClockSkew)
	require.Less(t, c.Last(), MakeHLC(epoch.Add(6*time.Minute).UnixMilli(), 0), "a year-ahead stamp must not drag the clock")
}

func TestClockOffsetCorrectsAWrongLaptopDate(t *testing.T) {
	server := &fakeWall{t: epoch}
	laptop := &fakeWall{t: epoch.AddDate(1, 0, 0)} // set a year ahead
	c := NewClock(laptop.now, 0)
	sent := laptop.t
	laptop.advance(80 * time.Millisecond)
	server.advance(40 * time.Millisecond)
	off := EstimateOffset(sent, laptop.t, server.t)
	server.advance(40 * time.Millisecond) // the answer's trip back
	c.SetOffset(off)
	require.InDelta(t, 0, c.PhysicalNow().Time().Sub(server.t).Milliseconds(), 2)
}

// One laptop a year ahead and one a year behind write against a correct
// server: neither wins later real-time writes, and neither moves the server's
// clock beyond the skew bound.
func TestWrongClocksNeitherWinNorDrag(t *testing.T) {
	real := &fakeWall{t: epoch}
	ahead := &fakeWall{t: epoch.AddDate(1, 0, 0)}
	behind := &fakeWall{t: epoch.AddDate(-1, 0, 0)}
	server := NewClock(real.now, DefaultMaxSkew)
	honest := NewMemReplica(uuid.UUID{1}, NewClock(real.now, DefaultMaxSkew))
	fast := NewMemReplica(uuid.UUID{0xfe}, NewClock(ahead.now, DefaultMaxSkew))
	slow := NewMemReplica(uuid.UUID{0xff}, NewClock(behind.now, DefaultMaxSkew))
	row := uuid.New()

	// Before either laptop ever synced, both write the phone field offline.
	fw := fast.Write("households", row, "phone", String("0911111111"), "h")
	sw := slow.Write("households", row, "phone", String("0922222222"), "h")

	// The server admits them: the year-ahead stamp is replaced by its own.
	fh, restamped := server.Admit(fw.HLC, 0)
	require.True(t, restamped)
	require.Less(t, fh, MakeHLC(real.t.Add(DefaultMaxSkew).UnixMilli(), 0))
	sh, restamped := server.Admit(sw.HLC, 0)
	require.False(t, restamped, "a stamp in the past is not dangerous: it only loses")
	require.Equal(t, sw.HLC, sh)
	require.LessOrEqual(t, server.Last().Millis(), real.t.Add(DefaultMaxSkew).UnixMilli())

	// A minute later, in real time, the honest volunteer edits concurrently.
	real.advance(time.Minute)
	hw := honest.Write("households", row, "phone", String("0933333333"), "h")
	require.True(t, Wins(hw.HLC, hw.Dot, fh, fw.Dot), "later real-time write beats the restamped year-ahead write")
	require.True(t, Wins(hw.HLC, hw.Dot, sh, sw.Dot), "later real-time write beats the year-behind write")

	// The honest replica receives the raw year-ahead change peer-to-peer: it
	// stores it (LWW still picks it there, until the server's restamp reaches
	// everyone), but its clock stays within the skew bound.
	honest.Apply([]Change{fw})
	require.LessOrEqual(t, honest.clock.Last().Millis(), real.t.Add(DefaultMaxSkew).UnixMilli())

	// The slow laptop, once it has seen the honest write, writes after it and
	// wins: causality holds even with a clock a year behind.
	slow.Apply([]Change{hw})
	after := slow.Write("households", row, "phone", String("0944444444"), "h")
	require.True(t, Wins(after.HLC, after.Dot, hw.HLC, hw.Dot))
	require.Equal(t, hw.Dot, after.Base)
}

func TestAdmitRestampsAboveTheBase(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, DefaultMaxSkew)
	base := c.Now()
	// A write stamped below its base (a broken or hostile client) is restamped
	// so it still beats what it overwrote.
	h, restamped := c.Admit(base-10, base)
	require.True(t, restamped)
	require.Greater(t, h, base)
}

func TestNowAfterBeatsAFarFutureBaseWithoutMovingTheClock(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, DefaultMaxSkew)
	future := MakeHLC(epoch.AddDate(1, 0, 0).UnixMilli(), 3)
	h := c.NowAfter(future)
	require.Greater(t, h, future)
	require.Less(t, c.Last(), MakeHLC(epoch.Add(time.Minute).UnixMilli(), 0))
}

func TestHLCLogicalOverflowCarriesIntoMillis(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, 0)
	c.Restore(MakeHLC(epoch.UnixMilli(), logicalMask))
	h := c.Now()
	require.Equal(t, epoch.UnixMilli()+1, h.Millis())
	require.Equal(t, "2026-11-25T09:00:00.001Z+0", h.String())
}

func TestCorrectionIgnoresOnlyARightClock(t *testing.T) {
	cases := []struct {
		off, want time.Duration
	}{
		{3 * time.Millisecond, 0},
		{-15 * time.Millisecond, 0},
		{-40 * time.Millisecond, -40 * time.Millisecond}, // right to half the round trip: better than none
		{1200 * time.Millisecond, 1200 * time.Millisecond},
		{2 * time.Second, 2 * time.Second},
		{-365 * 24 * time.Hour, -365 * 24 * time.Hour},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Correction(tc.off), "offset %s", tc.off)
	}
}

// SetOffset used to keep the last stamp a laptop a year ahead issued, so
// after its offset was corrected it kept stamping a year ahead.
func TestSetOffsetForgetsStampsOfAWrongDate(t *testing.T) {
	real := &fakeWall{t: epoch}
	laptop := &fakeWall{t: epoch.AddDate(1, 0, 0)}
	c := NewClock(laptop.now, 0)
	ahead := c.Now()
	c.SetOffset(real.t.Sub(laptop.t))
	h := c.Now()
	require.InDelta(t, epoch.UnixMilli(), h.Millis(), 1, "stamps with the corrected time, not a year ahead")
	require.Greater(t, c.NowAfter(ahead), ahead, "a write over the year-ahead value still beats it")
	require.Less(t, c.Last(), MakeHLC(epoch.Add(time.Minute).UnixMilli(), 0))

	c.Restore(ahead) // another process stored it before the correction
	require.Less(t, c.Now(), MakeHLC(epoch.Add(time.Minute).UnixMilli(), 0), "Restore does not follow a wrong date either")
}

func TestAdmitNeverMovesTheServersClockPastItsOwnTime(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := NewClock(w.now, DefaultMaxSkew)
	near := MakeHLC(epoch.Add(DefaultMaxSkew/2).UnixMilli(), 0)
	h, restamped := c.Admit(near, 0)
	require.False(t, restamped, "within the bound: kept as sent")
	require.Equal(t, near, h)
	require.LessOrEqual(t, c.Now().Millis(), epoch.UnixMilli()+1, "but the server's clock did not follow it")

	far := MakeHLC(epoch.Add(DefaultMaxSkew+time.Millisecond).UnixMilli(), 0)
	h, restamped = c.Admit(far, 0)
	require.True(t, restamped, "more than τ ahead: restamped")
	require.LessOrEqual(t, h.Millis(), epoch.UnixMilli()+1)
}

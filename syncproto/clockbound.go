package syncproto

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// ClockSample is what one sync measured of a laptop's clock: at its
// uncorrected wall time Wall (Unix ms) the server's clock read Wall +
// Offset. The zero sample is "never measured".
type ClockSample struct {
	Wall   int64 // the laptop's wall clock, Unix ms
	Offset int64 // ms to add to it
}

// Known reports whether the sample was taken.
func (s ClockSample) Known() bool { return s.Wall != 0 }

// Time is the sample's corrected time: the server's clock then, Unix ms.
func (s ClockSample) Time() int64 { return s.Wall + s.Offset }

// OffsetAt is the offset at wall time w of a clock measured at prev and
// next, assuming it ran at a steady rate between them: interpolated, and
// held at either end outside them. With no prev, next's offset holds
// throughout (a clock that is merely off, by any amount, is corrected
// exactly).
func OffsetAt(prev, next ClockSample, w int64) int64 {
	if !prev.Known() || next.Wall <= prev.Wall || w >= next.Wall {
		return next.Offset
	}
	if w <= prev.Wall {
		return prev.Offset
	}
	span := float64(next.Wall - prev.Wall)
	return prev.Offset + int64(float64(next.Offset-prev.Offset)*float64(w-prev.Wall)/span)
}

// OtherClock is prev as the measurement before next when prev may be of
// another laptop's clock: a data folder copied to a second laptop (found
// behind the server, agent/fork.go) carries its original's measurement.
// Interpolating between two clocks is meaningless (a copy on a laptop a
// year ahead stamped an edit it made before the original's at the time of
// its sync, above it): next's offset holds throughout, and prev still
// bounds the writes from below (the copy was made after it). A prev not
// taken stays so.
func OtherClock(prev, next ClockSample) ClockSample {
	if !prev.Known() {
		return prev
	}
	return ClockSample{Wall: prev.Time() - next.Offset, Offset: next.Offset}
}

// JumpDriftRate is how fast, in seconds a day, a laptop's clock may drift
// before Jumped takes the change of its offset for a jump: ten times
// DriftRate, more than any working clock drifts (a cheap crystal drifts up
// to some 50 ppm, 4 s a day, in the heat). A clock drifting steadily
// faster than DriftRate is outside the bound, yet its offset interpolated
// between two syncs still stamps its writes right; taken for a jump at
// DriftRate, an edit a laptop 3 s a day fast made on the first of 29 days
// offline was stamped 84 s early, and lost to one made before it (helper
// 218, TestLaterEditWinsOverAClockChangedByHand).
const JumpDriftRate = 10 * DriftRate

// Jumped reports whether next's offset moved from prev's more than a
// drifting clock can between them (JumpDriftRate, each measurement within
// ClockError): the clock was changed by hand, or prev was another laptop's
// (a copied data folder that syncs before its original, so is not found
// behind). Interpolating between them then is meaningless: Restamp stamps
// each write by one of the two offsets.
func Jumped(prev, next ClockSample) bool {
	if !prev.Known() || !next.Known() {
		return false
	}
	days := float64(max(next.Wall-prev.Wall, 0)) / float64(24*time.Hour/time.Millisecond)
	allow := 2*ClockError.Milliseconds() + int64(JumpDriftRate*1000*days)
	d := next.Offset - prev.Offset
	return d > allow || -d > allow
}

// jumpedTime is the corrected time of a write made at wall time w between
// two measurements of a clock that jumped (Jumped): it was made either
// under next's offset (after the change; the only one on a copy of a data
// folder, whose prev is its original's) or under prev's (before it). Of the
// two, the one between the two syncs' times is the write's (a clock set a
// year back after an edit: under next's offset the edit would be a year
// ahead, stamped at the sync's time, above later edits of others); when
// both are, next's, which is right for a clock set right when a sync
// warned, and for a copy; but prev's for a write the laptop made before it
// saw its clock set back (before): a write of the Monday a clock was set
// three days back that evening was stamped the Thursday, after a move of
// its household on the Tuesday, and refused as made after it (helper 298).
func jumpedTime(w int64, prev, next ClockSample, lo, hi int64, before bool) int64 {
	first, second := next, prev
	if before {
		first, second = prev, next
	}
	if t := w + first.Offset; t >= lo && t <= hi {
		return t
	}
	if t := w + second.Offset; t >= lo && t <= hi {
		return t
	}
	return w + next.Offset
}

// PendingWrite is a local write that no other replica holds yet, as
// Restamp needs it.
type PendingWrite struct {
	Dot  Dot
	Base Dot // the version it overwrote (zero: none)
	// BaseHLC is that version's stamp; 0 when unknown (a write recorded
	// before stamps of bases were kept: its stamp is then never lowered).
	BaseHLC HLC
	Wall    int64 // the laptop's uncorrected wall time when it was made, Unix ms
	HLC     HLC   // its stamp now
	// BeforeSetBack: made before the laptop saw its clock read earlier
	// than prev measured it (set back by hand): of a jump, it was made
	// under prev's offset (jumpedTime).
	BeforeSetBack bool
}

// Restamp brings the stamps of pending writes back into the clock bound
// once a sync has measured next, prev being the measurement before it:
// each write is stamped with its wall time corrected by the offset
// interpolated at it (OffsetAt) or, when the offset jumped between them
// (Jumped), by one of the two offsets (jumpedTime), kept between the two
// syncs' times (it was made after the one and before the other, whatever
// the laptop's clock said), and above what it overwrote, so causality
// holds for the laptop's own later writes of a field and for writes over
// others' values. ws are in the order they were made (ascending sequence);
// the new stamps are returned in that order. The dots never change: a
// restamped write is the same write of the same author.
//
// Only writes no other replica can hold may be restamped: the server
// compares a re-pushed sequence with what it holds (a fork otherwise), so
// the agent restamps only above Welcome.PushedSeq, before it pushes them,
// and each write once (docs/PROTOCOL.md §8.6).
func Restamp(ws []PendingWrite, prev, next ClockSample) []HLC {
	var lo int64
	if prev.Known() {
		lo = prev.Time()
	}
	hi := next.Time()
	jumped := Jumped(prev, next)
	out := make([]HLC, len(ws))
	stamped := make(map[Dot]HLC, len(ws))
	for i, w := range ws {
		t := w.Wall + OffsetAt(prev, next, w.Wall)
		if jumped {
			t = jumpedTime(w.Wall, prev, next, lo, hi, w.BeforeSetBack)
		}
		t = min(max(t, lo), hi)
		h := MakeHLC(t, 0)
		var floor HLC
		switch nb, ok := stamped[w.Base]; {
		case w.Base.IsZero():
		case ok:
			floor = nb
		case w.BaseHLC != 0:
			floor = w.BaseHLC
		case w.HLC > 0:
			floor = w.HLC - 1 // what it overwrote is unknown: never lower it
		}
		if h <= floor {
			h = floor + 1
		}
		stamped[w.Dot] = h
		out[i] = h
	}
	return out
}

// BoundEdit is one edit of a field as the clock bound judges it.
type BoundEdit struct {
	Key FieldKey
	Dot Dot
	// HLC is the stamp the edit ended with on every replica, after every
	// restamp (the agent's, the server's).
	HLC HLC
	// At is when the edit was made, in real time.
	At time.Time
	// InBound: the laptop that made it met the bound's conditions for it
	// (see ClockBound). Edits outside them are not judged.
	InBound bool
}

// BoundViolation is a pair of edits of one field, both within the bound's
// conditions, where the one made more than ε later in real time lost.
type BoundViolation struct {
	Earlier, Later BoundEdit
}

func (v BoundViolation) String() string {
	return fmt.Sprintf("%s.%s of %s: the edit made at %s (%s, seq %d) beats the edit made %s later (%s, seq %d): stamps %s and %s",
		v.Earlier.Key.Table, v.Earlier.Key.Field, v.Earlier.Key.Row,
		v.Earlier.At.UTC().Format("2006-01-02T15:04:05.000Z"), v.Earlier.Dot.Replica, v.Earlier.Dot.Seq,
		v.Later.At.Sub(v.Earlier.At), v.Later.Dot.Replica, v.Later.Dot.Seq, v.Earlier.HLC, v.Later.HLC)
}

// CheckClockBound checks the clock bound on every pair of edits of one
// field made within its conditions: the one made more than eps later in
// real time must win (Wins). It returns, for each edit that loses to one
// made more than eps before it, that earlier edit (the one it loses to
// with the highest stamp), in the order of the later edits' real time; nil
// when the bound holds. Pure, so a simulation can check it as an invariant.
func CheckClockBound(edits []BoundEdit, eps time.Duration) []BoundViolation {
	byKey := map[FieldKey][]BoundEdit{}
	for _, e := range edits {
		if e.InBound {
			byKey[e.Key] = append(byKey[e.Key], e)
		}
	}
	var out []BoundViolation
	for _, es := range byKey {
		slices.SortStableFunc(es, func(a, b BoundEdit) int { return a.At.Compare(b.At) })
		// best is the winner among the edits made more than eps before the
		// current one: it is the one to beat.
		var best *BoundEdit
		j := 0
		for i := range es {
			for ; j < i && es[i].At.Sub(es[j].At) > eps; j++ {
				if best == nil || Wins(es[j].HLC, es[j].Dot, best.HLC, best.Dot) {
					best = &es[j]
				}
			}
			if best != nil && !Wins(es[i].HLC, es[i].Dot, best.HLC, best.Dot) {
				out = append(out, BoundViolation{Earlier: *best, Later: es[i]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b BoundViolation) int {
		return cmp.Or(a.Later.At.Compare(b.Later.At), cmp.Compare(a.Later.HLC, b.Later.HLC))
	})
	return out
}

package syncproto

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

var (
	flagSchedules = flag.Int("schedules", 2000, "random schedules the convergence property test runs (make test-long runs many more)")
	flagSeed      = flag.Uint64("seed", 0, "run only the schedule with this seed (printed on failure)")
)

// sim is one random schedule: replicas writing offline and exchanging
// messages that are reordered, duplicated and dropped.
type sim struct {
	rng      *rand.Rand
	now      int64
	replicas []*MemReplica
	inflight [][]Change
	inTo     []int
	rows     []RowID
	writes   map[FieldKey][]Change // every write ever made: the oracle
}

var simFields = []string{"head_name", "phone", "members_count", TombstoneField}

func newSim(seed uint64, resolve func(*Version, *Change) Outcome) *sim {
	s := &sim{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: 1_750_000_000_000, writes: map[FieldKey][]Change{}}
	n := 3 + s.rng.IntN(3)
	for i := 0; i < n; i++ {
		skew := int64(s.rng.IntN(3)) // a couple of ms apart: plenty of HLC ties
		clock := NewClock(func() time.Time { return time.UnixMilli(s.now + skew) }, DefaultMaxSkew)
		id := uuid.UUID{}
		id[0] = byte(i + 1)
		id[15] = byte(s.rng.IntN(256))
		r := NewMemReplica(id, clock)
		r.resolve = resolve
		s.replicas = append(s.replicas, r)
	}
	for i := 0; i < 1+s.rng.IntN(3); i++ {
		var row uuid.UUID
		row[0], row[1] = 0xab, byte(i)
		s.rows = append(s.rows, row)
	}
	return s
}

func (s *sim) randomValue(field string) Value {
	switch field {
	case TombstoneField:
		return Bool(s.rng.IntN(3) == 0)
	case "members_count":
		return Int(int64(1 + s.rng.IntN(4)))
	case "phone":
		if s.rng.IntN(5) == 0 {
			return Null()
		}
		return String(fmt.Sprintf("09%08d", s.rng.IntN(3)))
	default:
		return String([]string{"Nguyễn Văn A", "Trần Thị B", "Lê C"}[s.rng.IntN(3)])
	}
}

func (s *sim) write() {
	r := s.replicas[s.rng.IntN(len(s.replicas))]
	row := s.rows[s.rng.IntN(len(s.rows))]
	field := simFields[s.rng.IntN(len(simFields))]
	var c Change
	switch {
	case field == TombstoneField && s.rng.IntN(2) == 0:
		c = r.Delete("households", row, "32002-01")
	case field == TombstoneField:
		c = r.Restore("households", row, "32002-01")
	default:
		c = r.Write("households", row, field, s.randomValue(field), "32002-01")
	}
	s.writes[c.Key()] = append(s.writes[c.Key()], c)
}

// send queues what replica `from` has that `to` lacked when asked, split into
// messages of random size so parts can be reordered or lost.
func (s *sim) send() {
	from, to := s.rng.IntN(len(s.replicas)), s.rng.IntN(len(s.replicas))
	if from == to {
		return
	}
	missing := s.replicas[from].Missing(s.replicas[to].VV(), 0)
	for len(missing) > 0 {
		n := 1 + s.rng.IntN(len(missing))
		s.inflight = append(s.inflight, missing[:n:n])
		s.inTo = append(s.inTo, to)
		missing = missing[n:]
	}
}

func (s *sim) deliver() {
	if len(s.inflight) == 0 {
		return
	}
	i := s.rng.IntN(len(s.inflight))
	msg, to := s.inflight[i], s.inTo[i]
	switch p := s.rng.IntN(10); {
	case p < 2: // dropped: the next exchange sends it again
	case p < 4: // duplicated: delivered now and stays in flight
		s.replicas[to].Apply(msg)
		return
	default:
		s.replicas[to].Apply(msg)
	}
	s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
	s.inTo = append(s.inTo[:i], s.inTo[i+1:]...)
}

func (s *sim) run(steps int) {
	for i := 0; i < steps; i++ {
		switch p := s.rng.IntN(100); {
		case p < 40:
			s.write()
		case p < 60:
			s.send()
		case p < 95:
			s.deliver()
		default:
			s.now += int64(s.rng.IntN(3))
		}
		if s.rng.IntN(4) == 0 {
			s.now++
		}
	}
	// Late duplicates of old messages still arrive after everything else.
	for len(s.inflight) > 0 {
		s.deliver()
	}
}

// exchangeAll syncs every pair in order until nothing moves.
func (s *sim) exchangeAll() {
	for moved := true; moved; {
		moved = false
		for i, a := range s.replicas {
			for j, b := range s.replicas {
				if i != j && b.Apply(a.Missing(b.VV(), 0)) > 0 {
					moved = true
				}
			}
		}
	}
}

// check returns the first violated property, or nil.
func (s *sim) check() error {
	ref := s.replicas[0]
	for i, r := range s.replicas[1:] {
		if !r.VV().Equal(ref.VV()) {
			return fmt.Errorf("replica %d has seen different writes than replica 0", i+1)
		}
		a, b := ref.Snapshot(), r.Snapshot()
		if len(a) != len(b) {
			return fmt.Errorf("replica %d holds %d fields, replica 0 holds %d", i+1, len(b), len(a))
		}
		for k, v := range a {
			if b[k] != v {
				return fmt.Errorf("replica %d diverges on %s.%s: %v@%s vs %v@%s", i+1, k.Table, k.Field, b[k].Value, b[k].HLC, v.Value, v.HLC)
			}
		}
	}
	for k, ws := range s.writes {
		winner := ws[0]
		isBase := map[Dot]bool{}
		for _, w := range ws {
			if Wins(w.HLC, w.Dot, winner.HLC, winner.Dot) {
				winner = w
			}
			isBase[w.Base] = true
		}
		for ri, r := range s.replicas {
			got, _ := r.Get(k.Table, k.Row, k.Field)
			if got.Dot != winner.Dot {
				return fmt.Errorf("replica %d: %s is %v, want the last writer's %v", ri, k.Field, got.Value, winner.Value)
			}
			// Every write nobody built on, other than the winner, lost to a
			// concurrent write: it must be in every replica's conflict log.
			for _, w := range ws {
				if w.Dot != winner.Dot && !isBase[w.Dot] && !r.HasConflict(k, w.Dot) {
					return fmt.Errorf("replica %d: losing write %v to %s is not in its conflict log", ri, w.Value, k.Field)
				}
			}
		}
	}
	return nil
}

func runSchedule(seed uint64, resolve func(*Version, *Change) Outcome) error {
	s := newSim(seed, resolve)
	s.run(40 + s.rng.IntN(120))
	s.exchangeAll()
	return s.check()
}

func TestConvergenceProperty(t *testing.T) {
	if *flagSeed != 0 {
		require.NoError(t, runSchedule(*flagSeed, Resolve), "seed %d", *flagSeed)
		return
	}
	base := uint64(time.Now().UnixNano())
	for i := 0; i < *flagSchedules; i++ {
		seed := base + uint64(i)
		if err := runSchedule(seed, Resolve); err != nil {
			t.Fatalf("schedule failed (reproduce with: go test ./syncproto -run TestConvergenceProperty -seed %d): %v", seed, err)
		}
	}
}

// The property test is only worth something if it fails when the rules it
// protects are broken. These mutants break the tie-break and the tombstone
// rule; the test must catch each within the normal schedule budget.
func TestConvergencePropertyCatchesBrokenRules(t *testing.T) {
	mutants := []struct {
		name    string
		resolve func(*Version, *Change) Outcome
	}{
		{"tie keeps the current value instead of comparing replica ids", func(cur *Version, in *Change) Outcome {
			if cur != nil && in.HLC == cur.HLC && in.Dot != cur.Dot {
				return LoseToConcurrent
			}
			return Resolve(cur, in)
		}},
		{"tie compares HLC only, incoming wins", func(cur *Version, in *Change) Outcome {
			if cur != nil && in.HLC == cur.HLC && in.Dot != cur.Dot {
				return InstallOverConcurrent
			}
			return Resolve(cur, in)
		}},
		{"delete always wins instead of last-writer-wins", func(cur *Version, in *Change) Outcome {
			if in.Field == TombstoneField && in.Value.AsBool() && (cur == nil || cur.Dot != in.Dot) {
				return Install
			}
			return Resolve(cur, in)
		}},
		{"a deleted row ignores later restores", func(cur *Version, in *Change) Outcome {
			if in.Field == TombstoneField && cur != nil && cur.Value.AsBool() && !in.Value.AsBool() {
				return LoseToConcurrent
			}
			return Resolve(cur, in)
		}},
		{"concurrent losers not logged", func(cur *Version, in *Change) Outcome {
			o := Resolve(cur, in)
			if o == InstallOverConcurrent {
				return Install
			}
			return o
		}},
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(*flagSchedules); seed++ {
				if err := runSchedule(seed, m.resolve); err != nil {
					t.Logf("caught by schedule %d: %v", seed, err)
					return
				}
			}
			t.Fatalf("no schedule out of %d caught the broken rule", *flagSchedules)
		})
	}
}

func TestResolveCases(t *testing.T) {
	a, b := uuid.UUID{1}, uuid.UUID{2}
	cur := &Version{Value: String("x"), HLC: 100, Dot: Dot{a, 5}, Base: Dot{a, 3}}
	cases := []struct {
		name string
		in   Change
		want Outcome
	}{
		{"same write again", Change{HLC: 100, Dot: Dot{a, 5}}, Duplicate},
		{"ancestor arrives late", Change{HLC: 90, Dot: Dot{a, 3}}, Stale},
		{"causal successor", Change{HLC: 120, Dot: Dot{b, 1}, Base: Dot{a, 5}}, Install},
		{"concurrent, newer", Change{HLC: 120, Dot: Dot{b, 1}, Base: Dot{a, 3}}, InstallOverConcurrent},
		{"concurrent, older", Change{HLC: 80, Dot: Dot{b, 1}}, LoseToConcurrent},
		{"tie, higher replica id wins", Change{HLC: 100, Dot: Dot{b, 1}}, InstallOverConcurrent},
		{"successor stamped below its base is treated as concurrent", Change{HLC: 99, Dot: Dot{b, 1}, Base: Dot{a, 5}}, LoseToConcurrent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Resolve(cur, &tc.in))
		})
	}
	require.Equal(t, Install, Resolve(nil, &Change{HLC: 1, Dot: Dot{a, 1}}))
}

func TestConflictForNamesLoserAndWinner(t *testing.T) {
	a, b := uuid.UUID{1}, uuid.UUID{2}
	cur := &Version{Value: String("old"), HLC: 100, Dot: Dot{a, 1}}
	in := &Change{Table: "households", Field: "phone", Value: String("new"), HLC: 200, Dot: Dot{b, 1}}
	c := ConflictFor(InstallOverConcurrent, cur, in)
	require.Equal(t, "old", c.Loser.Value.AsString())
	require.Equal(t, "new", c.Winner.Value.AsString())
	c = ConflictFor(LoseToConcurrent, cur, in)
	require.Equal(t, "new", c.Loser.Value.AsString())
	require.True(t, errors.Is(Errorf(CodeTooLarge, "x"), ErrTooLarge))
}

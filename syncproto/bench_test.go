package syncproto

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
)

// householdUpdates is the workload of the encoding target: volunteers editing
// a few digital-status and contact fields of households in their hamlet, in
// the order an agent's outbox holds them (consecutive edits of one household).
func householdUpdates(n int) []Change {
	rng := rand.New(rand.NewPCG(42, 42))
	replica := uuid.New()
	other := uuid.New()
	rows := make([]RowID, 5000)
	for i := range rows {
		rows[i] = uuid.New()
	}
	flags := []string{"has_smartphone", "vneid_installed", "vneid_level2", "uses_public_services", "uses_cashless", "has_ehealth_record"}
	ms := int64(1_764_000_000_000)
	var out []Change
	var seq uint64
	for len(out) < n {
		row := rows[rng.IntN(len(rows))]
		k := 1 + rng.IntN(4) // fields edited in one visit
		for j := 0; j < k && len(out) < n; j++ {
			seq++
			ms += int64(rng.IntN(4000))
			c := Change{Table: "households", Row: row, HLC: MakeHLC(ms, 0), Dot: Dot{Replica: replica, Seq: seq}, Scope: "32002-03"}
			switch rng.IntN(5) {
			case 0:
				c.Field, c.Value = "phone", String(fmt.Sprintf("09%08d", rng.IntN(1e8)))
			case 1:
				c.Field, c.Value = "members_count", Int(int64(1+rng.IntN(8)))
			default:
				c.Field, c.Value = flags[rng.IntN(len(flags))], Bool(true)
			}
			if rng.IntN(2) == 0 {
				c.Base = Dot{Replica: other, Seq: 1 + rng.Uint64N(20000)}
			}
			out = append(out, c)
		}
	}
	return out
}

func BenchmarkEncodeHouseholdUpdates(b *testing.B) {
	cs := householdUpdates(2000)
	frame, _ := Encode(nil, &Push{Batch: 1, Changes: cs})
	b.SetBytes(int64(len(frame)))
	buf := make([]byte, 0, len(frame))
	for b.Loop() {
		buf, _ = Encode(buf[:0], &Push{Batch: 1, Changes: cs})
	}
	b.ReportMetric(float64(len(frame))/float64(len(cs)), "wire-bytes/change")
}

func BenchmarkDecodeHouseholdUpdates(b *testing.B) {
	cs := householdUpdates(2000)
	frame, _ := Encode(nil, &Push{Batch: 1, Changes: cs})
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := Decode(frame, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(frame))/float64(len(cs)), "wire-bytes/change")
}

// mergeWorkload is what one replica receives from four others that edited
// the same 10,000 households concurrently: many same-field conflicts.
func mergeWorkload(n int) []Change {
	rng := rand.New(rand.NewPCG(9, 9))
	origins := []ReplicaID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	seqs := make([]uint64, len(origins))
	rows := make([]RowID, 10000)
	for i := range rows {
		rows[i] = uuid.New()
	}
	fields := []string{"head_name", "phone", "members_count", "vneid_level2", "uses_cashless", TombstoneField}
	out := make([]Change, n)
	for i := range out {
		o := rng.IntN(len(origins))
		seqs[o]++
		out[i] = Change{Table: "households", Row: rows[rng.IntN(len(rows))], Field: fields[rng.IntN(len(fields))],
			Value: Int(int64(i)), HLC: MakeHLC(1_764_000_000_000+int64(i/3), uint16(o)), Dot: Dot{Replica: origins[o], Seq: seqs[o]},
			Scope: "32002-03"}
	}
	return out
}

// BenchmarkMergeResolve is the merge rule alone over an in-memory field map:
// the figure the "1,000,000 field changes per second" refers to.
func BenchmarkMergeResolve(b *testing.B) {
	cs := mergeWorkload(200_000)
	b.ResetTimer()
	var applied int
	for b.Loop() {
		state := make(map[FieldKey]Version, 60_000)
		for i := range cs {
			c := &cs[i]
			k := c.Key()
			cur, ok := state[k]
			var o Outcome
			if ok {
				o = Resolve(&cur, c)
			} else {
				o = Resolve(nil, c)
			}
			if o.Installs() {
				state[k] = VersionOf(c)
			}
		}
		applied += len(cs)
	}
	b.ReportMetric(float64(applied)/b.Elapsed().Seconds(), "changes/s")
}

// BenchmarkMemReplicaApply includes the version vector, the log and the
// conflict log: a whole replica applying a received stream.
func BenchmarkMemReplicaApply(b *testing.B) {
	cs := mergeWorkload(200_000)
	var applied int
	for b.Loop() {
		r := NewMemReplica(uuid.New(), NewClock(func() time.Time { return time.UnixMilli(1_764_000_000_000) }, 0))
		applied += r.Apply(cs)
	}
	b.ReportMetric(float64(applied)/b.Elapsed().Seconds(), "changes/s")
}

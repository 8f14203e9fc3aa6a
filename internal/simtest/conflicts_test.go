package simtest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestOverwroteFollowsOnlyCertainBases: when two copies of a data folder
// pushed different writes under one dot, the conflict-log check calls a
// conflict spurious only if every write pushed under the dot had the loser
// in sight (seed 3010407: the write refused as a fork's named the version
// the taken one had not seen, and a true conflict failed the check;
// review 35: both had it in sight, and ending the chain let a spurious
// conflict pass).
func TestOverwroteFollowsOnlyCertainBases(t *testing.T) {
	a := syncproto.ReplicaID{1}
	b := syncproto.ReplicaID{2}
	loser := syncproto.Dot{Replica: b, Seq: 6}
	first := syncproto.Dot{Replica: a, Seq: 2}
	dup := syncproto.Dot{Replica: a, Seq: 14}
	later := syncproto.Dot{Replica: syncproto.ReplicaID{3}, Seq: 3} // a teammate's, over the loser
	push := func(s *Sim, dot, base syncproto.Dot) {
		data, err := syncproto.Encode(nil, &syncproto.Push{Batch: 1, Changes: []syncproto.Change{{
			Table: "households", Row: syncproto.RowID{9}, Field: "head_name", Value: syncproto.String("x"),
			Dot: dot, Base: base}}})
		require.NoError(t, err)
		s.notePush(frame{kind: frameData, data: data})
	}
	for _, c := range []struct {
		name  string
		bases []syncproto.Dot
		want  bool
	}{
		{"one push over the loser", []syncproto.Dot{loser}, true},
		{"pushed again after a lost Ack", []syncproto.Dot{loser, loser}, true},
		{"a copy's write first, the original's second", []syncproto.Dot{first, loser}, false},
		{"the original's first, a copy's second", []syncproto.Dot{loser, first}, false},
		{"a write that did not see the loser", []syncproto.Dot{first}, false},
		{"both copies wrote with the loser in sight", []syncproto.Dot{loser, later}, true},
		{"a new row's first write", []syncproto.Dot{{}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Sim{}
			push(s, later, loser)
			for _, base := range c.bases {
				push(s, dup, base)
			}
			require.Equal(t, c.want, s.overwrote(dup, loser))
		})
	}
}

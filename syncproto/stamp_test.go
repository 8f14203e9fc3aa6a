package syncproto

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// A stamped write is based on the field's current version and wins over it
// under last-writer-wins, even over a version stamped by a clock a year
// ahead: what every writer (agent, server, test clients) relies on.
func TestStampBasesAndBeatsTheCurrentVersion(t *testing.T) {
	w := &fakeWall{t: epoch}
	me, other := uuid.New(), uuid.New()
	far := MakeHLC(epoch.AddDate(1, 0, 0).UnixMilli(), 3)
	cases := []struct {
		name string
		cur  *Version
	}{
		{"first write of the field", nil},
		{"over an older version", &Version{Value: String("cũ"), HLC: MakeHLC(epoch.Add(-DefaultMaxSkew).UnixMilli(), 0), Dot: Dot{Replica: other, Seq: 4}}},
		{"over a version a year ahead", &Version{Value: String("tương lai"), HLC: far, Dot: Dot{Replica: other, Seq: 9}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewClock(w.now, 0)
			c := Change{Table: "households", Row: uuid.New(), Field: "head_name", Value: String("mới"), Base: Dot{Replica: other, Seq: 77}}
			dot := Dot{Replica: me, Seq: 12}
			v := Stamp(&c, clk, dot, tc.cur)
			require.Equal(t, dot, c.Dot)
			require.Equal(t, VersionOf(&c), v, "the version returned is the one c installs")
			if tc.cur == nil {
				require.True(t, c.Base.IsZero(), "a first write has no base")
				require.Equal(t, Install, Resolve(nil, &c))
				return
			}
			require.Equal(t, tc.cur.Dot, c.Base)
			require.Greater(t, c.HLC, tc.cur.HLC)
			require.Equal(t, Install, Resolve(tc.cur, &c), "a causal successor installs without a conflict")
			require.Less(t, clk.Last(), far, "a stamp above a far-future base does not drag the clock")
		})
	}
}

// ApplyOutcome puts each outcome into the field the same way for every
// replica: the winner is set, a loser of a concurrent write is the conflict.
func TestApplyOutcomeSetsTheWinnerAndNamesTheLoser(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	row := uuid.New()
	cur := Version{Value: String("A"), HLC: 100, Dot: Dot{Replica: a, Seq: 1}}
	mk := func(v string, h HLC, dot, base Dot) *Change {
		return &Change{Table: "households", Row: row, Field: "head_name", Value: String(v), HLC: h, Dot: dot, Base: base, Scope: "32002-01"}
	}
	cases := []struct {
		name       string
		cur        *Version
		in         *Change
		want       Outcome
		installed  bool
		conflicted bool
		loser      Value
	}{
		{"empty field", nil, mk("B", 50, Dot{Replica: b, Seq: 1}, Dot{}), Install, true, false, Value{}},
		{"causal overwrite", &cur, mk("B", 150, Dot{Replica: b, Seq: 2}, cur.Dot), Install, true, false, Value{}},
		{"concurrent and later", &cur, mk("B", 200, Dot{Replica: b, Seq: 3}, Dot{}), InstallOverConcurrent, true, true, String("A")},
		{"concurrent and earlier", &cur, mk("B", 90, Dot{Replica: b, Seq: 4}, Dot{}), LoseToConcurrent, false, true, String("B")},
		{"the same write again", &cur, mk("A", 100, cur.Dot, Dot{}), Duplicate, false, false, Value{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var field *Version
			if tc.cur != nil {
				c := *tc.cur
				field = &c
			}
			o := Resolve(field, tc.in)
			require.Equal(t, tc.want, o)
			set := 0
			cf, conflicted := ApplyOutcome(o, field, tc.in, func(v Version) {
				set++
				if field != nil {
					*field = v // overwrite in place, as the in-memory model does
				} else {
					field = &v
				}
			})
			require.Equal(t, tc.conflicted, conflicted)
			if tc.installed {
				require.Equal(t, 1, set)
				require.Equal(t, VersionOf(tc.in), *field)
			} else {
				require.Zero(t, set)
				require.Equal(t, *tc.cur, *field)
			}
			if conflicted {
				require.Equal(t, tc.loser, cf.Loser.Value, "the loser is named before the field is overwritten")
				require.Equal(t, *field, cf.Winner)
				require.Equal(t, tc.in.Key(), cf.Key)
			}
		})
	}
}

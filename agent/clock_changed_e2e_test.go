package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A single laptop (no copy) whose clock is changed by hand, or drifts,
// between two syncs (helper 218's review of syncproto.Jumped): laptop X
// syncs, edits a shared household's phone, and another laptop with a right
// clock edits it 3 s before or after (ε = 2 s); X's clock is changed at
// jumpAt (before or after its edit). Then both sync. The edit made later
// in real time wins on every replica, and the laptop whose edit lost lists
// it among its conflicts, whenever X's stamp can be known: its edit was
// made under one of the two clocks the syncs measured, and only one of
// them puts it between those syncs, or X's clock drifts steadily (at any
// rate a laptop's clock keeps), however long between the syncs.
func TestLaterEditWinsOverAClockChangedByHand(t *testing.T) {
	t.Parallel()
	const (
		day  = 24 * time.Hour
		year = 365 * day
	)
	cases := []struct {
		name    string
		x       laptopClock   // real, start set by the test
		editAt  time.Duration // after X's first sync
		offline time.Duration // from X's first sync to the next syncs
		// unknowable: the edit's offset cannot be told (a change of an
		// hour after it: under either offset the edit falls between the
		// syncs); only that every replica agrees and the loser is listed
		// is checked.
		unknowable bool
	}{
		{"right, set a year back after the edit", laptopClock{jump: -year}, 10 * time.Minute, day, false},
		{"right, set a year back before the edit", laptopClock{jump: -year}, time.Hour, day, false},
		{"a year behind, set right after the edit", laptopClock{shift: -year, jump: year}, 10 * time.Minute, day, false},
		{"a year behind, set right before the edit", laptopClock{shift: -year, jump: year}, time.Hour, day, false},
		{"a year ahead, set right after the edit", laptopClock{shift: year, jump: -year}, 10 * time.Minute, day, false},
		{"a year ahead, set right before the edit", laptopClock{shift: year, jump: -year}, time.Hour, day, false},
		{"an hour back (time zone) before the edit", laptopClock{jump: -time.Hour}, 2 * time.Hour, day, false},
		{"an hour on (time zone) before the edit", laptopClock{jump: time.Hour}, 2 * time.Hour, day, false},
		{"an hour back (time zone) after the edit", laptopClock{jump: -time.Hour}, 10 * time.Minute, day, true},
		{"an hour on (time zone) after the edit", laptopClock{jump: time.Hour}, 10 * time.Minute, day, true},
		{"a second a day fast, edit on day 1 of 29", laptopClock{drift: time.Second}, day, 29 * day, false},
		{"a second a day slow, edit on day 28 of 29", laptopClock{drift: -time.Second}, 28 * day, 29 * day, false},
		{"a second a day fast, edit on day 1 of 120", laptopClock{drift: time.Second}, day, 120 * day, false},
		{"3 s a day fast (35 ppm), edit on day 1 of 29", laptopClock{drift: 3 * time.Second}, day, 29 * day, false},
		{"5 s a day slow (58 ppm), edit on day 1 of 60", laptopClock{drift: -5 * time.Second}, day, 60 * day, false},
	}
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	for _, tc := range cases {
		for _, xLater := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, X edits later %v", tc.name, xLater), func(t *testing.T) {
				ctx := context.Background()
				laptop := func(c *laptopClock) (*agent.Replica, string) {
					c.real, c.start = real, real.now()
					r := agenttest.New(t, agent.Options{Now: c.now})
					tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
					require.NoError(t, err)
					return r, tok
				}
				xc, oc := tc.x, laptopClock{}
				x, tx := laptop(&xc)
				o, to := laptop(&oc)
				hh, err := o.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Văn Tám"})
				require.NoError(t, err)
				realSync(t, o, ts, to)
				realSync(t, x, ts, tx)
				start := real.now()
				if xc.jump != 0 {
					// after the edit, or a minute after the sync (set right
					// when the sync warned)
					xc.jumpAt = start.Add(time.Minute)
					if tc.editAt <= 10*time.Minute {
						xc.jumpAt = start.Add(tc.editAt + 30*time.Minute)
					}
				}
				first, second, want, lose := x, o, "0922222222", "0911111111"
				if xLater {
					first, second, want, lose = o, x, "0911111111", "0922222222"
				}
				real.advance(tc.editAt)
				require.NoError(t, first.EditHousehold(ctx, hh, agent.Fields{"phone": lose}))
				xEdit := real.now()
				real.advance(3 * time.Second)
				require.NoError(t, second.EditHousehold(ctx, hh, agent.Fields{"phone": want}))
				if xLater {
					xEdit = real.now()
				}
				real.advance(tc.offline - tc.editAt - 3*time.Second) // to the next syncs
				for _, r := range []struct {
					r   *agent.Replica
					tok string
				}{{x, tx}, {o, to}, {x, tx}, {o, to}} {
					realSync(t, r.r, ts, r.tok)
				}
				d, err := o.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				for _, f := range d.History {
					for _, v := range f.Versions {
						if f.Field == "phone" && !v.Mine {
							t.Logf("X's edit stamped %s, made at %s: off by %s", syncproto.HLC(v.HLC),
								xEdit.UTC().Format("2006-01-02T15:04:05.000Z"), syncproto.HLC(v.HLC).Time().Sub(xEdit).Round(time.Millisecond))
						}
					}
				}
				dx, err := x.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				do, err := o.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				require.Equal(t, do.Fields["phone"], dx.Fields["phone"], "every replica agrees")
				if tc.unknowable {
					if dx.Fields["phone"] != want {
						first, want, lose = second, lose, want
					}
				}
				require.Equal(t, want, dx.Fields["phone"], "the later real-time edit wins")
				cs, err := first.Conflicts(ctx, true)
				require.NoError(t, err)
				require.Condition(t, func() bool {
					for _, c := range cs {
						if c.Field == "phone" && c.Loser.Value == lose && c.Winner.Value == want {
							return true
						}
					}
					return false
				}, "the laptop whose edit lost lists it: %+v", cs)
			})
		}
	}
}

package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRecordsAfterSyncNotDatedBeforeItWhenClockJumpsBack (helper 298): a
// laptop whose clock was right at its sync (the server measured it so)
// has its clock set back three days after it (a dead clock battery at
// boot, a date changed by mistake). The visit and the report its
// volunteer records next are made after that sync: they cannot be dated
// before it. ClockSetBack took any set-back for a clock "set right" and
// dated new records by the clock as it read: the visit counted three days
// (a month, a year) early on the leaders' statistics, and the report was
// "submitted" before the sync that preceded it.
func TestRecordsAfterSyncNotDatedBeforeItWhenClockJumpsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, lc, ts, r, tok, hh := laptopOnItsClock(t)
	synced := real.now()
	syncedOn := schema.Today(synced)

	// The clock is set back three days an hour after the sync.
	real.advance(time.Hour)
	lc.jumpAt, lc.jump = real.now(), -72*time.Hour
	real.advance(time.Hour)
	v, err := r.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID mức 2"})
	require.NoError(t, err)
	rep, err := r.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "đường vào nhà ngập"})
	require.NoError(t, err)
	require.True(t, r.ClockSetBack(), "the laptop sees its clock set back")
	real.advance(time.Hour)
	realSync(t, r, ts, tok)

	o, to := realAgent(t, ts, ts.TeamA)
	realSync(t, o, ts, to)
	dv, err := o.Show(ctx, "visits", v.String())
	require.NoError(t, err)
	dr, err := o.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err)
	sub := time.UnixMilli(dr.Fields["submitted_at"].(int64))
	require.GreaterOrEqual(t, dv.Fields["visited_on"], syncedOn, "a visit made after the sync of %s is dated before it", syncedOn)
	require.False(t, sub.Before(synced.Truncate(time.Millisecond)), "a report filed after the sync is submitted %s before it", synced.Sub(sub))
}

// A laptop right at Monday's sync logs a visit an hour later; that
// evening its clock is set back three days (a dead battery, a slip of the
// hand). On Tuesday another team's device moves the household away. The
// laptop syncs on Saturday. Its visit was made before the move, while the
// agent still read its clock as not set back (ClockSetBack false), yet the
// restamp takes the offset after the jump (syncproto.jumpedTime: both
// offsets put it between the syncs, next's wins), dates the visit Thursday,

// TestVisitBeforeMoveNotRefusedAfterClockSetBackDaysLater (helper 298): a
// laptop right at Monday's sync logs a visit an hour later; that evening
// its clock is set back three days (a dead battery, a slip of the hand),
// and the agent sees it. On Tuesday another team's device moves the
// household away. The laptop syncs on Saturday. Its visit was made before
// the move, while the agent still read its clock as not set back, yet the
// restamp took the offset after the jump (both offsets put it between the
// syncs, and the later one won), dated the visit Thursday, and the server
// refused it as made after the household moved.
func TestVisitBeforeMoveNotRefusedAfterClockSetBackDaysLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const day = 24 * time.Hour
	real, lc, ts, a, ta, hh := laptopOnItsClock(t) // Monday, the laptop's clock right
	from, to := ts.HamletsA[0], ts.HamletsB[0]

	real.advance(time.Hour)
	require.False(t, a.ClockSetBack())
	v, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID mức 2"})
	require.NoError(t, err)
	real.advance(8 * time.Hour)
	lc.jumpAt, lc.jump = real.now(), -3*day // set back that evening
	real.advance(time.Minute)
	// A command run that evening (the CLI opens the data folder) sees it.
	cli := agenttest.Open(t, a.Path(), agent.Options{Now: lc.now})
	require.True(t, cli.ClockSetBack(), "the agent sees its clock set back")

	real.advance(day) // Tuesday: team B's device moves the household
	mover := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	w := servertest.NewWriter(mover.Replica, real.now)
	ack, err := mover.Push(1, []syncproto.Change{w.Write("households", hh, schema.ScopeField, syncproto.String(to), from)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	mover.Close()

	real.advance(4 * day) // Saturday
	realSync(t, a, ts, ta)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	for _, x := range rej {
		t.Logf("refused %s.%s: %s %s", x.Table, x.Field, x.Code, x.Text("en"))
	}
	require.Empty(t, rej, "the visit made on Monday, before Tuesday's move, is refused")
	b, tb := realAgent(t, ts, ts.TeamB)
	realSync(t, b, ts, tb)
	_, err = b.Show(ctx, "visits", v.String())
	require.NoError(t, err, "the team that holds the household has the visit")
}

// TestWriteByAnotherProcessAfterASetBackIsNotStampedBeforeIt (helper 299):
// the app sees the clock set back (Now, for a form it shows) and writes
// nothing; the clock reads past Monday's sync again by Thursday, when the
// CLI on the same data folder edits the household (it sees no set-back).
// Team A's other device edited the same field on Tuesday. The app syncs on
// Friday. Taking every pending write as made before a set-back this
// process saw in memory, it stamped the CLI's Thursday edit by the offset
// before, the Monday, and the edit lost to Tuesday's.
func TestWriteByAnotherProcessAfterASetBackIsNotStampedBeforeIt(t *testing.T) {
	t.Parallel()
	for _, appWrites := range []bool{false, true} {
		t.Run(map[bool]string{false: "the app syncs", true: "the app writes, then syncs"}[appWrites], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			const day = 24 * time.Hour
			real, lc, ts, app, tok, hh := laptopOnItsClock(t) // Monday noon, clock right
			cli := agenttest.Open(t, app.Path(), agent.Options{Now: lc.now})
			from := ts.HamletsA[0]

			real.advance(time.Hour)
			lc.jumpAt, lc.jump = real.now(), -3*day // set back three days
			real.advance(time.Hour)
			_ = app.Now()
			require.True(t, app.ClockSetBack(), "the app sees its clock set back")

			real.advance(day) // Tuesday: another device of team A edits the head's name
			other := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
			w := servertest.NewWriter(other.Replica, real.now)
			ack, err := other.Push(1, []syncproto.Change{w.Write("households", hh, "head_name", syncproto.String("Tuesday"), from)})
			require.NoError(t, err)
			require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
			other.Close()

			real.advance(2 * day) // Thursday 14:00: the laptop reads Monday 14:00
			require.False(t, cli.ClockSetBack())
			require.NoError(t, cli.EditHousehold(ctx, hh, agent.Fields{"head_name": "Thursday"}))

			real.advance(day) // Friday
			if appWrites {
				// The app's own write keeps the set-back it saw on Monday: it
				// must not take the CLI's Thursday edit for one made before.
				_, err := app.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID"})
				require.NoError(t, err)
			}
			realSync(t, app, ts, tok)
			o, to := realAgent(t, ts, ts.TeamA)
			realSync(t, o, ts, to)
			d, err := o.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, "Thursday", d.Fields["head_name"], "the CLI's Thursday edit loses to Tuesday's")
		})
	}
}

// TestReportsAfterASetBackAreNotDatedBeforeEarlierOnes (helper 299): a
// report filed an hour after Monday's sync, then the clock set back three
// days, then a second report an hour later. Held at the last sync's time
// only, the second was submitted before the first.
func TestReportsAfterASetBackAreNotDatedBeforeEarlierOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, lc, _, r, _, hh := laptopOnItsClock(t)
	real.advance(time.Hour)
	first, err := r.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "đường vào nhà ngập"})
	require.NoError(t, err)
	real.advance(time.Minute)
	lc.jumpAt, lc.jump = real.now(), -72*time.Hour
	real.advance(time.Hour)
	second, err := r.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "cống tắc"})
	require.NoError(t, err)
	d1, err := r.Show(ctx, "field_reports", first.String())
	require.NoError(t, err)
	d2, err := r.Show(ctx, "field_reports", second.String())
	require.NoError(t, err)
	s1, s2 := time.UnixMilli(d1.Fields["submitted_at"].(int64)), time.UnixMilli(d2.Fields["submitted_at"].(int64))
	require.False(t, s2.Before(s1), "the report filed an hour later is submitted %s before the first", s1.Sub(s2))
}

package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
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

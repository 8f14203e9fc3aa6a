package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestDeletedVisitBackByMoveHidesOnlyUnseenEdits (stop 68, found by a
// review): she deletes a visit after her laptop pulled every edit of it;
// the server takes the delete. Team C moves the household out of her
// team's hamlets (her laptop drops it and the visit) and back. The move's
// re-log rebuilds the visit field by field, her tombstone first: each
// later field, written before her delete and seen by it, looked like an
// edit her delete never saw (hidesEdit), and her laptop wrote a hidden
// edit of its own, listed it as her write lost to her delete (offering a
// restore that undeletes the visit), and pushed it, so the server and
// every laptop of the hamlet listed it too. Nothing competed. An edit made
// on the visit while it was away, by a volunteer of team C who had not
// pulled the delete, is one her delete never saw: that one is hidden.
func TestDeletedVisitBackByMoveHidesOnlyUnseenEdits(t *testing.T) {
	t.Parallel()
	for _, editAway := range []bool{false, true} {
		name := "every edit seen"
		if editAway {
			name = "an edit made while away"
		}
		t.Run(name, func(t *testing.T) { deletedVisitBackByMove(t, editAway) })
	}
}

func deletedVisitBackByMove(t *testing.T, editAway bool) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	x, tx := enroll()
	hamlet, theirs := ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, theirs)
	require.NoError(t, err)
	require.True(t, changed)
	enrollC := teamEnroller(t, clk, ts, theirs, hamlet)
	c, tc := enrollC()
	d, td := enrollC()

	hh, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	v, err := c.AddVisit(ctx, hh, agent.Fields{"notes": "lần đầu"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, x, ts, tx)
	clk.advance(time.Minute)
	require.NoError(t, x.Update(ctx, "visits", v, agent.Fields{"notes": "sửa lại"}))
	realSync(t, x, ts, tx)
	realSync(t, d, ts, td) // d holds the visit, and goes offline before the delete
	realSync(t, a, ts, ta)
	clk.advance(time.Minute)
	require.NoError(t, a.Delete(ctx, "visits", v)) // she saw every edit of it
	realSync(t, a, ts, ta)
	realSync(t, c, ts, tc)

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": theirs}))
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, v), "the visit left with its household")
	if editAway {
		clk.advance(time.Minute)
		require.NoError(t, d.Update(ctx, "visits", v, agent.Fields{"notes": "đã hướng dẫn VNeID"}))
		realSync(t, d, ts, td)
		realSync(t, c, ts, tc)
	}

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
	realSync(t, c, ts, tc)
	sum := realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	require.True(t, holdsRow(t, a, v), "the visit is back: %+v", sum)
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	if !editAway {
		require.Empty(t, cs, "her delete saw every edit: no conflict")
		require.Zero(t, total, "nor on the server")
		return
	}
	require.Len(t, cs, 1, "the edit made while away is hidden by her delete: %+v", cs)
	require.Equal(t, syncproto.TombstoneField, cs[0].Field)
	require.Equal(t, 1, total, "and the server lists it")
}

// TestCollectedDeletedVisitBackByMoveHidesNothing (stop 68, found by a review): she deletes a
// visit B wrote, after her laptop pulled every edit of it. Every device
// pulls the delete and says so; the activity is flushed, so the horizon her
// next sync is told passes her tombstone and her laptop collects the visit
// (CollectTombstones, dropped with no note). The server's own collection
// has not run yet (hourly by default; PROTOCOL §8.5 "the server's
// collection runs later"). Then B moves the household to the team's other
// hamlet: the server re-logs the deleted visit under the new hamlet, to
// every device, her own tombstone first, then B's versions, which her
// delete saw. Nothing competed, but her laptop, which had noted nothing of
// a row it collected, listed and pushed a hidden edit of each: the server
// and B listed it too.
func TestCollectedDeletedVisitBackByMoveHidesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hamlet, other := ts.HamletsA[0], ts.HamletsA[1]

	hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	v, err := b.AddVisit(ctx, hh, agent.Fields{"notes": "lần đầu"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	require.True(t, holdsRow(t, a, v))

	require.NoError(t, a.Delete(ctx, "visits", v)) // she saw every edit of it
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, b, ts, tb) // B says it stored the tombstone
	realSync(t, a, ts, ta)
	ts.Server.RunJob(ctx, server.JobFlush) // the periodic activity flush, not collection
	sum := realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	if sum.Collected == 0 {
		ts.Server.RunJob(ctx, server.JobFlush)
		sum = realSync(t, a, ts, ta)
	}
	require.Equal(t, 1, sum.Collected, "her laptop collects the visit: %+v", sum)
	require.False(t, holdsRow(t, a, v))

	// B moves the household within the team's hamlets; the server still
	// holds the deleted visit and moves it along.
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": other}))
	realSync(t, b, ts, tb)
	sum = realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	t.Logf("her sync after the move: %+v; holds the visit again: %v", sum, holdsRow(t, a, v))

	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	cb, err := b.Conflicts(ctx, true)
	require.NoError(t, err)
	t.Logf("conflicts: hers %d, server %d, B's %d", len(cs), total, len(cb))
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	t.Logf("her laptop vs a fresh clone: %s", diffSnap(want, got))
	require.Empty(t, cs, "her delete saw every edit of the visit: no conflict on her laptop")
	require.Zero(t, total, "nor on the server")
	require.Empty(t, cb, "nor on B's laptop")
}

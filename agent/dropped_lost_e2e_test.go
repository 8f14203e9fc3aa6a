package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestHouseholdBackTellsAWriteBeatenWhileAway (issue 17, stop 63's
// note): a volunteer corrects a household's head and syncs; the server
// takes it. A teammate, offline since before it, corrects the same head
// later by the clock and syncs: the server logs her correction as the
// loser. Before her laptop pulls again, the team loses the household's
// hamlet, and her next sync drops the household, her correction with it:
// the server took it, so nothing waits to be pushed, and the laptop kept
// nothing of it. When the household comes back (the team regains the
// hamlet, or her laptop clones again past the floor), the snapshot names
// her correction as the loser, but her laptop no longer held it and never
// told her it lost.
func TestHouseholdBackTellsAWriteBeatenWhileAway(t *testing.T) {
	t.Parallel()
	for _, reclone := range []bool{false, true} {
		name := "the team regains the hamlet"
		if reclone {
			name = "a clone past the floor"
		}
		t.Run(name, func(t *testing.T) { householdBackTellsBeaten(t, reclone) })
	}
}

func householdBackTellsBeaten(t *testing.T, reclone bool) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	b, tb := enroll()
	hamlet := ts.HamletsA[0]
	hh := takenThenBeaten(t, clk, ts, a, ta, b, tb)

	loseHamlet(t, clk, ts, a, ta, hamlet, hh)

	sum := gainAndSync(t, clk, ts, a, ta, hamlet, reclone)
	require.True(t, holdsRow(t, a, hh), "the household is back: %+v", sum)

	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Quách Văn Tư Em", d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Len(t, cs, 1, "that conflict alone, the one the server logged")
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	require.Equal(t, 1, total)

	toldOnce(t, a, ts, ta)
}

// gainAndSync: team A gains hamlet, past the log's floor when reclone (so
// that a's next sync clones again), and a syncs twice; it returns the
// first sync's summary.
func gainAndSync(t *testing.T, clk *fakeClock, ts *servertest.TS, a *agent.Replica, ta, hamlet string, reclone bool) agent.SyncSummary {
	t.Helper()
	ctx := context.Background()
	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	if reclone {
		head, err := ts.Store.Head(ctx)
		require.NoError(t, err)
		setFloor(t, ts, head, ts.HamletsA...)
	}
	clk.advance(time.Minute)
	sum := realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	return sum
}

// TestMovedBackTellsAWriteBeatenWhileAway: the same loss, the household
// coming back by a move. A volunteer of another team that also covers the
// hamlet moves the household into one of its own hamlets and then, not
// having pulled her correction, corrects the head there: hers lost. Her
// laptop dropped the household at its next pull (the move), before the
// winner reached it. When the other team moves the household back, the
// move's re-log brings the winner (or a write made over it since): the
// versions alone cannot tell her laptop that her correction lost, so the
// pull names the conflict (Changes.Lost).
func TestMovedBackTellsAWriteBeatenWhileAway(t *testing.T) {
	t.Parallel()
	for overs, name := range []string{"the winner", "written over the winner", "written over the winner twice"} {
		t.Run(name, func(t *testing.T) { movedBackTellsBeaten(t, overs) })
	}
}

// movedBackTellsBeaten: the household comes back with the winner written
// over overs times by the other team's volunteer. Twice, the re-logged
// version's base is not the winner either: only the server can say the
// version descends from it (seed 8500139).
func movedBackTellsBeaten(t *testing.T, overs int) {
	ctx := context.Background()
	clk, ts, a, c, ta, tc, hamlet, hh := movedOutTeam(t)
	want := writtenOverAway(t, clk, ts, a, c, ta, hh, overs)
	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
	realSync(t, c, ts, tc)
	sum := realSync(t, a, ts, ta)
	require.True(t, holdsRow(t, a, hh), "the household is back: %+v", sum)
	require.Equal(t, 1, sum.Conflicts, "the pull tells of one conflict: %+v", sum)
	toldHerLoss(t, a, hh, want, sum)

	sum = realSync(t, a, ts, ta)
	require.Zero(t, sum.Conflicts, "told once: %+v", sum)
}

// TestHouseholdBackTellsALossWrittenOverSince: the household comes back by
// a back-fill at her laptop's cursor, and the winner of her correction was
// written over after that cursor by a volunteer of another team that
// covers the hamlet too, plain edits of a household that never moved. The
// chunk leaves the head out for the pull from the head, and names her loss
// (SnapshotChunk.Lost covers the fields it leaves out); the pull brings
// the edits and names nothing. Her laptop keeps its note of her
// correction, marked told, until the first of them meets it.
func TestHouseholdBackTellsALossWrittenOverSince(t *testing.T) {
	t.Parallel()
	clk, ts, a, ta, hamlet, hh, want := writtenOverWhileLost(t)
	sum := gainAndSync(t, clk, ts, a, ta, hamlet, false)
	require.Zero(t, sum.Cloned, "above the floor, her laptop back-fills the hamlet: %+v", sum)
	require.True(t, holdsRow(t, a, hh), "the household is back: %+v", sum)
	toldHerLoss(t, a, hh, want, sum)
	toldOnce(t, a, ts, ta)
}

// writtenOverWhileLost is the world of
// TestHouseholdBackTellsALossWrittenOverSince up to the hamlet's return:
// a's correction of hh's head taken, then beaten by a teammate's
// (takenThenBeaten); team A loses hh's hamlet (a drops hh); a volunteer of
// team C, which covers the hamlet too, writes the head over the winner
// twice, the last time want.
func writtenOverWhileLost(t *testing.T) (clk *fakeClock, ts *servertest.TS, a *agent.Replica, ta, hamlet string, hh syncproto.RowID, want string) {
	t.Helper()
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta = enroll()
	b, tb := enroll()
	hamlet = ts.HamletsA[0]
	c, tc := teamEnroller(t, clk, ts, hamlet)()
	hh = takenThenBeaten(t, clk, ts, a, ta, b, tb)
	realSync(t, c, ts, tc)

	loseHamlet(t, clk, ts, a, ta, hamlet, hh)

	for i := range 2 {
		clk.advance(time.Minute)
		want = fmt.Sprintf("Quách Văn Tư (em %d)", i+1)
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
	}
	realSync(t, c, ts, tc)
	return clk, ts, a, ta, hamlet, hh, want
}

// teamEnroller makes team C ("Tổ CNTS Ấp 3" of commune A, covering
// hamlets) and returns what enrolls a fresh replica on clk in it.
func teamEnroller(t *testing.T, clk *fakeClock, ts *servertest.TS, hamlets ...string) func() (*agent.Replica, string) {
	t.Helper()
	ctx := context.Background()
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", hamlets)
	require.NoError(t, err)
	return func() (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: clk.now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, team.ID), "máy tổ C")
		require.NoError(t, err)
		return r, tok
	}
}

// loseHamlet: team A loses hamlet, and a's next sync drops hh there.
func loseHamlet(t *testing.T, clk *fakeClock, ts *servertest.TS, a *agent.Replica, ta, hamlet string, hh syncproto.RowID) {
	t.Helper()
	changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, hh), "the team lost the hamlet: her laptop drops the household")
}

// toldOnce: a's next sync tells no conflict again, and nothing stays kept
// or noted: the notes went with the household's return.
func toldOnce(t *testing.T, a *agent.Replica, ts *servertest.TS, ta string) {
	t.Helper()
	sum := realSync(t, a, ts, ta)
	require.Zero(t, sum.Conflicts, "told once: %+v", sum)
	var n int
	require.NoError(t, a.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM own_away`).Scan(&n))
	require.Zero(t, n, "nothing kept or noted once the household is back")
}

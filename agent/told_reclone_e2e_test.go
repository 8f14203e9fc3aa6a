package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestToldNoteSurvivesARecloneAfterACutReturn: as in
// TestHouseholdBackTellsALossWrittenOverSince, the household comes back by
// a back-fill whose chunk leaves the head out (written over after her
// cursor) and names her loss: her laptop keeps the note of her correction,
// marked told, for the pull from the head. That session is cut after the
// chunk, before the pull. Resumed, the pull from the head tells the loss
// (pullTxn.toldGone). But if her laptop stays away past the log's floor,
// its next sync clones again: the chunk now sends the head and names her
// loss, and the household, held without a head, is listed for the clone
// to replace (holdSynced). The chunk's head met nothing to compare with,
// the note went with the row's other versions, and she was never told
// (stop 68, found by a review: the simulation had not produced it).
func TestToldNoteSurvivesARecloneAfterACutReturn(t *testing.T) {
	t.Parallel()
	for _, reclone := range []bool{false, true} {
		name := "resumed"
		if reclone {
			name = "cloned again past the floor"
		}
		t.Run(name, func(t *testing.T) { toldNoteAfterCutReturn(t, reclone) })
	}
}

func toldNoteAfterCutReturn(t *testing.T, reclone bool) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	b, tb := enroll()
	hamlet := ts.HamletsA[0]
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{hamlet})
	require.NoError(t, err)
	c := agenttest.New(t, agent.Options{Now: clk.now})
	tc, _, err := c.Enroll(ctx, ts.URL, ts.EnrollCode(t, teamC.ID), "máy tổ C")
	require.NoError(t, err)
	hh := takenThenBeaten(t, clk, ts, a, ta, b, tb)
	realSync(t, c, ts, tc)

	loseHamlet(t, clk, ts, a, ta, hamlet, hh)

	want := ""
	for i := range 2 {
		clk.advance(time.Minute)
		want = fmt.Sprintf("Quách Văn Tư (em %d)", i+1)
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
	}
	realSync(t, c, ts, tc)

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	cutReturn(t, ts, a, ta, agent.SyncOptions{}, hh, `taken AND told`)
	recloneTellsOnce(t, clk, ts, a, ta, hh, want, reclone)
}

// TestNotedLossSurvivesARecloneAfterACutMoveBack: the household comes
// back by team C's move over several pages (as in
// TestMovedBackOverPagesTellsAWriteBeatenWhileAway), the session cut after
// the first page: her laptop holds the household without the head and
// keeps the note of her correction (takeAway's keepGone) for the page
// that names its loss. It then clones again past the floor: the chunk
// sends the head and names her loss, which, as above, went untold.
func TestNotedLossSurvivesARecloneAfterACutMoveBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk, ts, a, c, ta, tc, hamlet, hh := movedOutTeam(t)
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, hh), "moved out of her team's hamlets: her laptop drops the household")

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
	realSync(t, c, ts, tc)
	cutReturn(t, ts, a, ta, agent.SyncOptions{PullLimit: 1, Sched: &pageSched{}}, hh, `taken`)
	recloneTellsOnce(t, clk, ts, a, ta, hh, "Quách Văn Tư Em", true)
}

// cutReturn: a's next sync brings hh back, its head left for later (the
// pull from a back-fill's head, a later page), and is cut there: a holds
// hh without its head, and one note of her correction that notes selects.
func cutReturn(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, opts agent.SyncOptions, hh syncproto.RowID, notes string) {
	t.Helper()
	ctx := context.Background()
	// The Welcome and one message (the chunk, the first page), then cut;
	// a retry gets its Welcome only.
	opts.IOTimeout = 10 * time.Second
	require.Error(t, syncCutAfterWith(a, ts, ta, func(n int) int { return 2 - min(n, 1) }, opts))
	ts.WaitSessionsEnded(t)
	require.True(t, holdsRow(t, a, hh), "the household came back")
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Nil(t, d.Fields["head_name"], "without the head: it comes later")
	var n int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away WHERE `+notes).Scan(&n))
	require.Equal(t, 1, n, "her laptop keeps the note of her correction")
	require.Empty(t, myLostValues(t, a, hh, "head_name"), "not told yet: the session was cut")
}

// recloneTellsOnce: a syncs, past the log's floor when reclone (it clones
// again), and lists her correction as lost once, the one conflict the
// server logged, with hh's head want.
func recloneTellsOnce(t *testing.T, clk *fakeClock, ts *servertest.TS, a *agent.Replica, ta string, hh syncproto.RowID, want string, reclone bool) {
	t.Helper()
	ctx := context.Background()
	if reclone {
		head, err := ts.Store.Head(ctx)
		require.NoError(t, err)
		setFloor(t, ts, head, ts.HamletsA...)
	}
	clk.advance(time.Minute)
	sum := realSync(t, a, ts, ta)
	if reclone {
		require.Positive(t, sum.Cloned, "past the floor, her laptop clones again: %+v", sum)
	}
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	require.Equal(t, 1, total, "the server logged her correction's loss, once")
	toldHerLoss(t, a, hh, want, sum)
	toldOnce(t, a, ts, ta)
}

// TestRecloneResumedAfterAnAckTellsALossACutReturnLeft: as above, her
// laptop holds the household again only in part, with the note of her
// correction that lost, and clones again; that clone is cut before the
// household's chunk. Offline, she writes the household's notes, and her
// next sync pushes it before it resumes the clone: the Ack takes the
// household off the clone's list (applyAck), so its chunk is merged with
// the row as held, not replaced, and never met the note, which the
// complete pull after the clone then forgot (stop 68, found by a review).
// When the head is written over again during the clone, the chunk leaves
// it out, and the pull from the clone's head tells her.
func TestRecloneResumedAfterAnAckTellsALossACutReturnLeft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		moveBack  bool // the household came back by a move's re-log, else by a back-fill
		overAgain bool // the head is written over again during the clone
	}{
		{"back-fill", false, false},
		{"move back", true, false},
		{"move back, head written over during the clone", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) { recloneAckedTellsLoss(t, tc.moveBack, tc.overAgain) })
	}
}

func recloneAckedTellsLoss(t *testing.T, moveBack, overAgain bool) {
	ctx := context.Background()
	var (
		clk            *fakeClock
		ts             *servertest.TS
		a, c           *agent.Replica
		ta, tc, hamlet string
		hh             syncproto.RowID
		want           string
	)
	if moveBack {
		clk, ts, a, c, ta, tc, hamlet, hh = movedOutTeam(t)
		realSync(t, a, ts, ta)
		require.False(t, holdsRow(t, a, hh), "moved out of her team's hamlets: her laptop drops the household")
		clk.advance(time.Minute)
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
		realSync(t, c, ts, tc)
		cutReturn(t, ts, a, ta, agent.SyncOptions{PullLimit: 1, Sched: &pageSched{}}, hh, `taken`)
		want = "Quách Văn Tư Em"
	} else {
		var enroll func() (*agent.Replica, string)
		clk, ts, enroll = clockedTeam(t)
		a, ta = enroll()
		b, tb := enroll()
		hamlet = ts.HamletsA[0]
		teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{hamlet})
		require.NoError(t, err)
		c = agenttest.New(t, agent.Options{Now: clk.now})
		tc, _, err = c.Enroll(ctx, ts.URL, ts.EnrollCode(t, teamC.ID), "máy tổ C")
		require.NoError(t, err)
		hh = takenThenBeaten(t, clk, ts, a, ta, b, tb)
		realSync(t, c, ts, tc)
		loseHamlet(t, clk, ts, a, ta, hamlet, hh)
		for i := range 2 {
			clk.advance(time.Minute)
			want = fmt.Sprintf("Quách Văn Tư (em %d)", i+1)
			require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
		}
		realSync(t, c, ts, tc)
		changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
		require.NoError(t, err)
		require.True(t, changed)
		clk.advance(time.Minute)
		cutReturn(t, ts, a, ta, agent.SyncOptions{}, hh, `taken AND told`)
	}

	// Households that sort before hh: one row a chunk, the clone is cut
	// before hh's chunk.
	for i := range 40 {
		id := uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		_, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": fmt.Sprintf("Hộ %d", i)}, agent.WithID(id))
		require.NoError(t, err)
	}
	realSync(t, c, ts, tc)
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	clk.advance(time.Minute)
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1}
	require.Error(t, syncCutAfterWith(a, ts, ta, func(int) int { return 3 }, opts))
	ts.WaitSessionsEnded(t)
	var listed int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM clone_drop WHERE row_id = ?`, hh.String()).Scan(&listed))
	require.Equal(t, 1, listed, "the clone listed the household and was cut before its chunk")

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "nhà cạnh trạm y tế"}))
	if overAgain {
		want = "Quách Văn Tư (em út)"
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
		realSync(t, c, ts, tc)
	}
	sum, err := a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	require.Equal(t, 1, sum.Pushed, "%+v", sum)
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	require.Equal(t, 1, total, "the server logged her correction's loss, once")
	toldHerLoss(t, a, hh, want, sum)
	toldOnce(t, a, ts, ta)
}

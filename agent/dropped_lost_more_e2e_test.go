package agent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// movedOutTeam is the world of TestMovedBackTellsAWriteBeatenWhileAway: a
// household team C added in one of team A's hamlets, which C also covers
// with one A does not (theirs); a, of team A, corrects its head and syncs,
// the server takes it. Then C moves the household into theirs and
// corrects the head later by the clock, without having pulled hers: hers
// lost. Nothing of a synced after the move yet.
func movedOutTeam(t *testing.T) (clk *fakeClock, ts *servertest.TS, a, c *agent.Replica, ta, tc, hamlet string, hh syncproto.RowID) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta = enroll()
	hamlet, theirs := ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, theirs)
	require.NoError(t, err)
	require.True(t, changed)
	c, tc = teamEnroller(t, clk, ts, theirs, hamlet)()

	id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"head_name": "Quách Văn Tứ"}))
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "the server takes her correction: %+v", sum)

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, id, agent.Fields{"hamlet_code": theirs}))
	require.NoError(t, c.EditHousehold(ctx, id, agent.Fields{"head_name": "Quách Văn Tư Em"}))
	realSync(t, c, ts, tc)
	return clk, ts, a, c, ta, tc, hamlet, id
}

// TestRecloneDropTellsAWriteBeatenWhileAway: the household moved out while
// her laptop was behind the log's floor: its clone leaves the household
// out, and the end of the clone drops it (dropHeld), noting her correction
// the server took. When team C moves it back, the pull names her loss.
func TestRecloneDropTellsAWriteBeatenWhileAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk, ts, a, c, ta, tc, hamlet, hh := movedOutTeam(t)
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, hh), "the clone leaves the household out")

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
	realSync(t, c, ts, tc)
	sum := realSync(t, a, ts, ta)
	require.True(t, holdsRow(t, a, hh), "the household is back: %+v", sum)
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost: %+v", sum)
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Len(t, cs, 1, "that conflict alone, the one the server logged")
}

// pageSched is a Scheduler whose time jumps a second at every look: a
// pull stores each page in a transaction of its own (pullGroupTime), as a
// slow laptop does with a large move's pages.
type pageSched struct {
	mu sync.Mutex
	n  int64
}

func (s *pageSched) Block(ready func() bool) {
	for !ready() {
		time.Sleep(time.Millisecond)
	}
}

func (s *pageSched) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return time.Now().Add(time.Duration(s.n) * time.Second)
}

func (s *pageSched) Int64N(int64) int64 { return 0 }

// TestMovedBackOverPagesTellsAWriteBeatenWhileAway: the move back's
// re-log of the household reaches her laptop over several pages, each
// stored in its own transaction. The page with the winner of her field
// names her loss (Changes.Lost), but the household came back with the
// move's first change, in an earlier transaction: her laptop forgot what
// it had noted of the household there, and never told her.
func TestMovedBackOverPagesTellsAWriteBeatenWhileAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk, ts, a, c, ta, tc, hamlet, hh := movedOutTeam(t)
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, hh), "moved out of her team's hamlets: her laptop drops the household")

	clk.advance(time.Minute)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet}))
	realSync(t, c, ts, tc)
	stored := 0
	sum, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, PullLimit: 1, Sched: &pageSched{},
		Progress: func(p agent.Progress) {
			if p.Phase == "pull" {
				stored++
			}
		}})
	require.NoError(t, err)
	require.Greater(t, stored, 2, "the pull stores its pages apart: %+v", sum)
	require.True(t, holdsRow(t, a, hh), "the household is back: %+v", sum)
	require.Equal(t, 1, sum.Conflicts, "the pull tells of one conflict: %+v", sum)
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")

	sum = realSync(t, a, ts, ta)
	require.Zero(t, sum.Conflicts, "told once: %+v", sum)
	var n int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away`).Scan(&n))
	require.Zero(t, n, "nothing noted once the household is back and the pull complete")
}

// TestGainedHamletTellsAWriteBeatenThenWrittenOver (issue 17, seed
// 8500139): the household moved out of her team's hamlets with her
// correction beaten, and team C's volunteer then corrected the head over
// the winner, once or twice. Her team then gains team C's hamlet, and her
// laptop clones again past the log's floor: the snapshot brings the
// household with the version written over the winner. Written over twice,
// that version's base is not the winner either: only the server can say
// that it descends from it, and the chunk names her loss
// (LostWrite.NamedAfter). Not past the floor, her laptop back-fills the
// hamlet by a snapshot whose head is its cursor, and the writes over the
// winner came after it: the chunk leaves the field out for the pull from
// the head, which brings those writes and names no loss (stop 66's note).
// The chunk names it (its Lost covers the fields it leaves out), and her
// laptop keeps the note, told, until the pull brings the field.
func TestGainedHamletTellsAWriteBeatenThenWrittenOver(t *testing.T) {
	t.Parallel()
	for _, reclone := range []bool{true, false} {
		for overs := range 3 {
			name := fmt.Sprintf("back-filled, written over %d times", overs)
			if reclone {
				name = fmt.Sprintf("cloned past the floor, written over %d times", overs)
			}
			t.Run(name, func(t *testing.T) { gainedHamletTellsBeaten(t, overs, reclone) })
		}
	}
}

func gainedHamletTellsBeaten(t *testing.T, overs int, reclone bool) {
	clk, ts, a, c, ta, tc, _, hh := movedOutTeam(t)
	want := writtenOverAway(t, clk, ts, a, c, ta, hh, overs)
	realSync(t, c, ts, tc)

	sum := gainAndSync(t, clk, ts, a, ta, ts.HamletsA[1], reclone)
	if reclone {
		require.Positive(t, sum.Cloned, "past the floor, her laptop clones again: %+v", sum)
	} else {
		require.Zero(t, sum.Cloned, "above the floor, her laptop back-fills the hamlet: %+v", sum)
	}
	require.True(t, holdsRow(t, a, hh), "the household is back with the hamlet: %+v", sum)
	toldHerLoss(t, a, hh, want, sum)

	toldOnce(t, a, ts, ta)
}

// writtenOverAway: her laptop drops the household movedOutTeam moved out
// of her team's hamlets, then team C's volunteer corrects its head over
// the winner overs times, unsynced. It returns the head's last value.
func writtenOverAway(t *testing.T, clk *fakeClock, ts *servertest.TS, a, c *agent.Replica, ta string, hh syncproto.RowID, overs int) string {
	t.Helper()
	realSync(t, a, ts, ta)
	require.False(t, holdsRow(t, a, hh), "moved out of her team's hamlets: her laptop drops the household")
	want := "Quách Văn Tư Em"
	for i := range overs {
		clk.advance(time.Minute)
		want = fmt.Sprintf("Quách Văn Tư (em %d)", i+1)
		require.NoError(t, c.EditHousehold(context.Background(), hh, agent.Fields{"head_name": want}))
	}
	return want
}

// toldHerLoss: the household back, her laptop shows the head as want and
// lists her correction as lost, the one conflict the server logged.
func toldHerLoss(t *testing.T, a *agent.Replica, hh syncproto.RowID, want string, sum agent.SyncSummary) {
	t.Helper()
	ctx := context.Background()
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, want, d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost: %+v", sum)
	cs, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Len(t, cs, 1, "that conflict alone, the one the server logged")
}

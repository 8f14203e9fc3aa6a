package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRecloneTellsAWriteBeatenAfterTheServerTookIt (issue 17, seeds
// 8400007, 8400015 and 8400086): a volunteer corrects a household's head
// and syncs; the server takes it. A teammate, offline since before it,
// corrects the same head later by the clock and syncs: the server logs the
// volunteer's correction as the loser. Before her laptop pulls again, it
// has been away past the server's floor and clones again. Her laptop must
// list her correction as lost, as a pull would have: the snapshot's
// version alone (the teammate's, over the name both started from, or a
// third volunteer's written over it) cannot tell a concurrent write that
// beat hers from one made over it, so the chunk carries the conflicts the
// server logged on its rows (SnapshotChunk.Lost).
func TestRecloneTellsAWriteBeatenAfterTheServerTookIt(t *testing.T) {
	t.Parallel()
	for over, name := range []string{"the winner", "written over the winner", "written over the winner during the clone"} {
		t.Run(name, func(t *testing.T) { recloneTellsBeaten(t, over) })
	}
}

// recloneTellsBeaten: over 0, the clone brings the winner; 1, a write
// made over it before the clone; 2, one made while the clone is cut,
// after its head. Then the chunk leaves the head out for the pull from
// its head to bring (§16.3), names her loss, and the pull brings the
// write, based on the winner her laptop never saw (stop 67: before, her
// laptop listed the household again from its snapshot, dropped her
// correction with the chunk, and the pull named nothing).
func recloneTellsBeaten(t *testing.T, over int) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	b, tb := enroll()
	c, tc := enroll()
	hh := takenThenBeaten(t, clk, ts, a, ta, b, tb)
	want := "Quách Văn Tư Em"
	writeOver := func() {
		realSync(t, c, ts, tc)
		clk.advance(time.Minute)
		want = "Quách Văn Tư (em)"
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
		realSync(t, c, ts, tc)
	}
	if over == 1 {
		writeOver()
	}
	if over == 2 {
		// Households that sort before hh: one row a chunk, the chunk of
		// hh comes after the cut.
		for i := range 40 {
			id := uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
			_, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": fmt.Sprintf("Hộ %d", i)}, agent.WithID(id))
			require.NoError(t, err)
		}
		realSync(t, b, ts, tb)
	}

	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	clk.advance(time.Minute)
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second}
	if over == 2 {
		// Cut at the server's fourth frame: the Welcome, then chunks.
		opts.SnapshotLimit = 1
		require.Error(t, syncCutAfterWith(a, ts, ta, func(int) int { return 3 }, opts))
		ts.WaitSessionsEnded(t)
		require.False(t, holdsRow(t, a, uuid.MustParse("00000000-0000-4000-8000-000000000039")), "the clone was cut before the household")
		writeOver()
	}
	sum, err := a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	require.Positive(t, sum.Cloned, "past the floor, her laptop clones again: %+v", sum)
	require.Equal(t, 1, sum.Conflicts, "the clone tells of one conflict: %+v", sum)

	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, want, d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
	toldOnce(t, a, ts, ta)
}

// takenThenBeaten: teammate b adds a household in ts.HamletsA[0] and both
// sync; offline, a corrects its head and b, a minute later by the clock,
// corrects it too. a syncs first (the server takes her correction), then
// b (his beats it, and the server logs hers as the loser). a has not
// pulled his since.
func takenThenBeaten(t *testing.T, clk *fakeClock, ts *servertest.TS, a *agent.Replica, ta string, b *agent.Replica, tb string) syncproto.RowID {
	t.Helper()
	ctx := context.Background()
	hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tứ"}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tư Em"}))
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "her correction reaches the server first: %+v", sum)
	realSync(t, b, ts, tb)
	return hh
}

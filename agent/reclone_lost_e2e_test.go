package agent_test

import (
	"context"
	"testing"
	"time"

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
	for _, overWinner := range []bool{false, true} {
		name := "the winner"
		if overWinner {
			name = "written over the winner"
		}
		t.Run(name, func(t *testing.T) { recloneTellsBeaten(t, overWinner) })
	}
}

func recloneTellsBeaten(t *testing.T, overWinner bool) {
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	b, tb := enroll()
	c, tc := enroll()
	hh := takenThenBeaten(t, clk, ts, a, ta, b, tb)
	want := "Quách Văn Tư Em"
	if overWinner {
		realSync(t, c, ts, tc)
		clk.advance(time.Minute)
		want = "Quách Văn Tư (em)"
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": want}))
		realSync(t, c, ts, tc)
	}

	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	clk.advance(time.Minute)
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Cloned, "past the floor, her laptop clones again: %+v", sum)
	require.Equal(t, 1, sum.Conflicts, "the clone tells of one conflict: %+v", sum)

	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, want, d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
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

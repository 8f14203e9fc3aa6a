package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A laptop offline moves households to a hamlet its team has lost
// meanwhile: one it had synced, one it added offline. The server refuses
// both moves (out_of_scope) and keeps both households in the hamlet they
// were moved from, which the team still covers. The Welcome of that sync
// brings the smaller scope, and the laptop drops the lost hamlet's rows
// after pushing. It read the rows' hamlet from their own refused moves,
// and dropped both. The synced one was gone from the laptop for good; the
// new one came back as its hamlet_code alone (the server sends the first
// hamlet of a new row to its author too), a household without its
// required fields: the other fields are the laptop's own writes, which
// its pulls leave out (issue 17, wide seeds 684 and 752; since the drop
// keeps the own versions the server took, in own_away, that one comes
// back whole).
//
// Each stays on the laptop, whole, beside its refusal, as any row with a
// refused change does; discarding the refusal brings it back to where the
// server holds it.
func TestRefusedMoveToLostHamletKeepsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	synced, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ đã gửi"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// Offline: a household added, the team loses the hamlet on the
	// server, then both households are moved to it here.
	fresh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ mới thêm"})
	require.NoError(t, err)
	tick()
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	for _, id := range []syncproto.RowID{synced, fresh} {
		require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": lost}))
	}

	sum := realSync(t, a, ts, ta)
	require.Equal(t, 2, sum.Rejected, "both moves are refused")
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{lost}, sum.ScopeChange.Lost)
	realSync(t, a, ts, ta)

	ids := []syncproto.RowID{fresh, synced}
	heads := map[syncproto.RowID]string{synced: "Hộ đã gửi", fresh: "Hộ mới thêm"}
	for _, id := range ids {
		got, err := a.Show(ctx, "households", id.String())
		if !assert.NoError(t, err, "the laptop still holds household %s, which the server holds in %s", id, kept) {
			continue
		}
		assert.Equal(t, heads[id], got.Fields["head_name"], "household %s is whole on the laptop: %v", id, got.Fields)
		assert.Equal(t, lost, got.Fields["hamlet_code"], "the refused move stays until its volunteer acts")
	}
	if t.Failed() {
		return
	}

	// The volunteer discards the refusals: each household is back where
	// the server holds it, and equals a fresh clone's copy.
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 2)
	for _, x := range rej {
		require.Equal(t, "hamlet_code", x.Field)
		require.NoError(t, a.DiscardRejected(ctx, x.ID))
	}
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	for _, id := range ids {
		got, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err)
		want, err := b.Show(ctx, "households", id.String())
		require.NoError(t, err)
		require.Equal(t, kept, got.Fields["hamlet_code"])
		require.Equal(t, heads[id], want.Fields["head_name"])
		require.Equal(t, want.Fields, got.Fields, "household %s: the laptop holds what a fresh clone holds", id)
	}
}

package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestDiscardingANewHouseholdTakesItsVisits: a laptop whose clock runs
// days ahead adds a household offline (registered "today", after the
// server's tomorrow) and logs two visits to it: one dated by the laptop
// too, one dated right. The server refuses the household whole (in_future)
// and both visits: the first for its own date, the second for the
// household's absence (household_missing). The volunteer drops the
// household.
//
// DiscardPreview says, before anything changes, that the household goes
// whole and two records with it; the discard does that. Before, the
// visit refused for its own date stayed, live and listed, naming a
// household the laptop no longer held: only records refused for the
// household's absence went with it.
func TestDiscardingANewHouseholdTakesItsVisits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, tok, day := laptopAhead(t)
	other, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ khác", "registered_on": day(0)})
	require.NoError(t, err)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Tạ Văn Bảy"})
	require.NoError(t, err)
	ownDate, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "hướng dẫn thanh toán"})
	require.NoError(t, err)
	rightDate, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID", "visited_on": day(0)})
	require.NoError(t, err)
	_, err = a.AddVisit(ctx, other, agent.Fields{"notes": "hộ khác, giữ nguyên", "visited_on": day(0)})
	require.NoError(t, err)
	realSync(t, a, ts, tok)

	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	var ids []int64
	refused := map[syncproto.RowID]bool{}
	for _, x := range rej {
		if x.Row == hh.String() {
			ids = append(ids, x.ID)
		}
		for _, id := range []syncproto.RowID{hh, ownDate, rightDate} {
			refused[id] = refused[id] || x.Row == id.String()
		}
	}
	require.Len(t, refused, 3)
	for id, r := range refused {
		require.True(t, r, "%s is refused: %+v", id, rej)
	}

	eff, err := a.DiscardPreview(ctx, ids)
	require.NoError(t, err)
	require.Equal(t, agent.DiscardEffect{Table: "households", Row: hh.String(), Whole: true, Records: 2}, eff)
	for _, id := range []syncproto.RowID{hh, ownDate, rightDate} {
		_, err = a.Show(ctx, map[bool]string{true: "households", false: "visits"}[id == hh], id.String())
		require.NoError(t, err, "the preview changes nothing")
	}

	// As the app's «drop this whole record» does: the household's other
	// changes went with the first.
	require.NoError(t, a.DiscardRejected(ctx, ids[0]))
	for _, id := range ids[1:] {
		var nf *agent.NotFoundError
		if err := a.DiscardRejected(ctx, id); !errors.As(err, &nf) {
			require.NoError(t, err)
		}
	}
	_, err = a.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household is gone")
	for _, id := range []syncproto.RowID{ownDate, rightDate} {
		_, err = a.Show(ctx, "visits", id.String())
		require.Error(t, err, "its visit %s went with it", id)
	}
	rej, err = a.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej, "nothing is left refused of a household that is gone")
	visits, err := a.List(ctx, "visits", agent.ListOptions{Household: other.String()})
	require.NoError(t, err)
	require.Len(t, visits, 1, "the other household's visit stays")

}

package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A household refused whole, and its visit refused household_missing.
// Discarding the household's hamlet discards the household whole
// (discardNewRow); the visit stayed live and listed, its text saying it
// goes again with the household, which no longer existed anywhere
// (review 36, D3). It goes with the household.
func TestDiscardingARefusedNewHouseholdDiscardsItsRefusedVisit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day := laptopAhead(t)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	visit, err := l.AddVisit(ctx, hh, agent.Fields{"visited_on": day(-1)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	var hamletID int64
	for _, x := range rej {
		if x.Row == hh.String() && x.Field == "hamlet_code" {
			hamletID = x.ID
		}
	}
	require.NotZero(t, hamletID)
	require.NoError(t, l.DiscardRejected(ctx, hamletID))
	_, err = l.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household is discarded whole")
	_, verr := l.Show(ctx, "visits", visit.String())
	rej, err = l.Rejected(ctx)
	require.NoError(t, err)
	for _, x := range rej {
		t.Logf("left listed: %s %s %s: %s", x.Table, x.Field, x.Code, x.Text("en"))
	}
	t.Logf("visit shown: err %v", verr)
	require.Empty(t, rej, "nothing left listed waits on a household that no longer exists")
}

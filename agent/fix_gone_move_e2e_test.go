package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The team loses both its hamlets (it gains another); offline, after the
// loss, the volunteer moves a household and renames its head. Both are
// refused and the household leaves the laptop. Sent again, the two refused
// changes carried both of a household's required fields and passed for a
// whole new row: the household was made again on the laptop out of them,
// in a hamlet it no longer covers, and refused again (review 36, D1). An
// edit is told apart from an adding by its bases.
func TestSendingAgainAMoveAndRenameOfAHouseholdThatLeftSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Lê Văn Tâm", "address": "số 1", "members_count": 4})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	tick()
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, kept)
	require.NoError(t, err)
	tick()
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost, "head_name": "Lê Văn Mới"}))
	sum := realSync(t, a, ts, ta)
	t.Logf("sync: pushed %d rejected %d", sum.Pushed, sum.Rejected)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	var headID int64
	for _, x := range rej {
		t.Logf("rejected %d %s=%v code=%s", x.ID, x.Field, x.Value, x.Code)
		if x.Field == "head_name" {
			headID = x.ID
		}
	}
	require.NotZero(t, headID)
	_, err = a.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household left the laptop")

	err = a.FixRejected(ctx, headID, nil)
	shown, serr := a.Show(ctx, "households", hh.String())
	t.Logf("FixRejected: err=%v; Show after: %+v (err %v)", err, shown, serr)
	var gone *agent.RecordGoneError
	if !errors.As(err, &gone) {
		sum = realSync(t, a, ts, ta)
		t.Logf("sync after fix: pushed %d rejected %d pulled %d", sum.Pushed, sum.Rejected, sum.Pulled)
		shown, serr = a.Show(ctx, "households", hh.String())
		t.Logf("Show after sync: %+v (err %v)", shown, serr)
		rej, _ = a.Rejected(ctx)
		for _, x := range rej {
			t.Logf("rejected %d %s=%v code=%s", x.ID, x.Field, x.Value, x.Code)
		}
	}
	require.True(t, errors.As(err, &gone), "an edit of a household that left is not a whole new row: %v", err)
}

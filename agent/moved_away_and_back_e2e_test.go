package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestPushThatMovesARowAwayAndBackKeepsItsLaterEdit (issue 17: the
// simulation's wide and silent worlds together, seed 6260): offline, a
// volunteer moves a household to the team's other hamlet while correcting
// the head's name, then moves it back with another correction. Before the
// laptop syncs, the team loses that other hamlet. The push is taken whole
// (each change judged by when it was made), and logs in one batch the
// household's eviction from the laptop's hamlet, then its return (a re-log
// of its versions as they were at the move back: the first correction),
// then the second correction. The laptop's pull, from below the eviction,
// drops the household and takes it back from the re-log; the second
// correction, its own, is left out of pulls, so the laptop showed the first
// name for good while the server and everyone else held the second.
//
// A change logged after its row moved in the same batch is marked for its
// author (apply.go ownBack) like one after a move the laptop has not
// pulled: it follows the re-log back.
func TestPushThatMovesARowAwayAndBackKeepsItsLaterEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	l, tl := realAgent(t, ts, ts.TeamA)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Nguyễn Văn An"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)

	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": other, "head_name": "Nguyễn Văn Ân"}))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": home, "head_name": "Nguyễn Văn Án"}))
	serverPast(t, ts, l) // both moves are made before the team loses the hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)

	s := realSync(t, l, ts, tl)
	require.Zero(t, s.Rejected, "each change is judged by when it was made, when the team had both hamlets")
	realSync(t, l, ts, tl)

	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household is back in the laptop's hamlet")
	require.Equal(t, "Nguyễn Văn Án", d.Fields["head_name"], "the laptop keeps its last correction")
	require.Equal(t, home, d.Fields["hamlet_code"])

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}

package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 29's S1: a laptop restored from a copy that only pulled since
// (nothing pushed, so no fork is found) holds a cursor below the one the
// server last heard from it. A household its team covers was moved
// between two of the team's hamlets after the copy; the restored laptop
// still holds it in the first, corrects it and pushes, and the pull is
// cut. The server judged the write against the cursor it had heard, above
// the move, and left it unmarked. The team then loses the first hamlet:
// the laptop drops the household (acknowledged, nothing kept), and its
// pull from the old cursor brings it back by the move's re-log, without
// the laptop's own correction, which pulls leave out. The laptop held the
// old name until it cloned again; the server held the correction.
func TestRestoredLaptopKeepsItsCorrectionOfAMovedHousehold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	lost, kept := ts.HamletsA[0], ts.HamletsA[1]
	open, path, backup := replicaFile(t)

	mate, tm := realAgent(t, ts, ts.TeamA)
	row, err := mate.AddHousehold(ctx, agent.Fields{"hamlet_code": lost, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, mate, ts, tm)

	l := open()
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	requireName(t, l, row, "Nguyễn Văn Bình", "L holds the household")
	require.NoError(t, l.Close())
	restoreFile(t, path, backup) // the copy: the household in the hamlet to be lost

	require.NoError(t, mate.EditHousehold(ctx, row, agent.Fields{"hamlet_code": kept}))
	realSync(t, mate, ts, tm)
	l = open()
	realSync(t, l, ts, tl) // pulls the move
	realSync(t, l, ts, tl) // tells the server it stored it
	require.NoError(t, l.Close())

	restoreFile(t, backup, path)
	l = open()
	defer l.Close()
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pushOnly(t, l, ts, tl)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	realSync(t, mate, ts, tm)
	requireName(t, mate, row, "Nguyễn Văn Bính", "the server took L's correction")
	requireName(t, l, row, "Nguyễn Văn Bính", "L keeps its own correction")
	got, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, kept, got.Fields["hamlet_code"])
	requireNoConflictBeyondServer(t, ts, l)
}

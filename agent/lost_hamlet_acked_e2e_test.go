package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 28's D2 in the lost-hamlet path: L's edit is pushed and
// acknowledged, its pull cut; another team writes the same field twice
// over it; L's team loses the hamlet and L drops its rows. L kept its
// acknowledged edit (acked_from, for wide seed 208), and when the
// household came back by a move into a hamlet L's team keeps, the move's
// re-log brought the chain's last version, based on the middle one: L
// recorded a conflict between its own edit and a write made over it,
// which the server has not. Now the server marks a write to a row moved
// after its pusher's cursor (server/apply.go ownBack) and L keeps nothing
// acknowledged. The household may also come back by the team gaining its
// hamlet again (a back-fill by snapshot).
func TestLostHamletKeepsNoAcknowledgedEditOverwritten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		moved bool // back by a move, else by the team gaining the hamlet again
	}{
		{"moved back", true},
		{"hamlet regained", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			kept, lost := ts.HamletsA[0], ts.HamletsA[1]
			l, tl, c, tc2, row := ackedEditBesideTeamC(t, ts, []string{lost, kept}, lost)

			realSync(t, c, ts, tc2)
			require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
			realSync(t, c, ts, tc2)
			require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Ba"}))
			realSync(t, c, ts, tc2)

			changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
			require.NoError(t, err)
			require.True(t, changed)
			tick()
			realSync(t, l, ts, tl)
			require.False(t, holdsRow(t, l, row), "the household's hamlet left L's team")

			if tc.moved {
				require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": kept}))
				realSync(t, c, ts, tc2)
			} else {
				changed, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, lost)
				require.NoError(t, err)
				require.True(t, changed)
				tick()
			}
			realSync(t, l, ts, tl)
			realSync(t, l, ts, tl)
			requireName(t, l, row, "Nguyễn Văn Bính Ba", "L holds the last correction")
			requireNoConflictBeyondServer(t, ts, l)
		})
	}
}

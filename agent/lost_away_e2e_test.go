package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// TestLossTakenAwayIsToldWhenTheRowComesBack (issue 17: seed 8400266 of
// the wide world): offline, a volunteer corrects a household's head; a
// teammate corrects it later by the clock and syncs first; the team loses
// the household's hamlet before the volunteer syncs. Her correction reaches the server second and loses
// (superseded), and the session's rescope drops the household with the
// hamlet, before any pull could meet the teammate's correction. When the
// team regains the hamlet, the back-fill brings the household back with
// the teammate's name: her laptop must list her correction as lost, as
// the server logged it, and as it would had the household stayed. So too
// when the laptop, past the server's floor, clones again instead (the
// clone's start keeps the write aside, clone.go holdSynced).
func TestLossTakenAwayIsToldWhenTheRowComesBack(t *testing.T) {
	t.Parallel()
	for _, reclone := range []bool{false, true} {
		name := "back-fill"
		if reclone {
			name = "clone again"
		}
		t.Run(name, func(t *testing.T) { lossTakenAway(t, reclone) })
	}
}

func lossTakenAway(t *testing.T, reclone bool) {
	ctx := context.Background()
	clk, ts, _ := clockedTeam(t)
	hamlet := ts.HamletsA[1]
	a, ta, hh := lossKeptAway(t, ts, clk, filepath.Join(t.TempDir(), "hamlet.db"))

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	if reclone {
		head, err := ts.Store.Head(ctx)
		require.NoError(t, err)
		setFloor(t, ts, head, ts.HamletsA...)
	}
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Conflicts, "the sync that brings the household back tells of one conflict: %+v", sum)
	realSync(t, a, ts, ta)

	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household came back with the hamlet")
	require.Equal(t, "Quách Văn Tư Em", d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
}

// myLostValues lists the values of r's own writes of row's field that its
// conflicts list shows lost.
func myLostValues(t *testing.T, r *agent.Replica, row uuid.UUID, field string) []any {
	t.Helper()
	cs, err := r.Conflicts(context.Background(), true)
	require.NoError(t, err)
	var out []any
	for _, c := range cs {
		if c.Row == row.String() && c.Field == field && c.Loser.Mine {
			out = append(out, c.Loser.Value)
		}
	}
	return out
}

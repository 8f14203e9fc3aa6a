package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// L holds a household; another team moves it out of L's hamlets and back
// (review 29 D2). L (its cursor below both moves) corrects the head's
// name (W1, pushed: the server marks it, ownBack) and corrects it again
// while the push runs (W2, pending, based on W1). The pull evicts the row
// (L keeps W2 alone), the move back re-logs the name W1 was written over,
// and L merges it against W2, whose base it is not: a conflict the server
// never has (W2 is written over W1 there). The same with W1 still pending,
// made during the push as well. L now keeps the history of the fields it
// keeps (own_away_hist), and the name comes back as a version it held.
func TestPendingCorrectionKeptThroughDropIsNoConflict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		firstPushed bool // W1 made before the sync (pushed), or during its push
	}{
		{"first correction pushed", true},
		{"both corrections pending", false},
	} {
		t.Run(tc.name, func(t *testing.T) { pendingChainThroughDrop(t, tc.firstPushed) })
	}
}

func pendingChainThroughDrop(t *testing.T, firstPushed bool) {
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, other := ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{other, kept})
	require.NoError(t, err)
	tick()
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, teamC.ID)

	row, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	require.True(t, holdsRow(t, l, row))

	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": other}))
	realSync(t, m, ts, tm)
	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": kept}))
	realSync(t, m, ts, tm)

	first := agent.Fields{"head_name": "Nguyễn Văn Bính"}
	if firstPushed {
		require.NoError(t, l.EditHousehold(ctx, row, first))
	} else {
		require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"phone": "0912345678"}))
	}
	edited := false
	_, err = l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second,
		Progress: func(p agent.Progress) {
			if p.Phase == "push" && !edited {
				edited = true
				if !firstPushed {
					require.NoError(t, l.EditHousehold(ctx, row, first))
				}
				require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
			}
		}})
	require.NoError(t, err)
	require.True(t, edited)
	pending, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Positive(t, pending, "the corrections made during the push wait for the next sync: the pull dropped the row with them")
	// The row left and came back in that pull: L still shows what its
	// volunteer typed last.
	got, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Bính Hai", got.Fields["head_name"], "L shows its volunteer's last correction")
	realSync(t, l, ts, tl)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)

	want, err := m.Snapshot(ctx)
	require.NoError(t, err)
	have, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "L equals M\n%s", diffSnap(want, have))
	requireNoConflictBeyondServer(t, ts, l)
}

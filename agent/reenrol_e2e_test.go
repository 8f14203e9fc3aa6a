package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A laptop wrote households in both of its team's hamlets before its first
// sync, so no Welcome ever noted the hamlets it holds (scope_held); it was
// revoked (the refusal comes before any Welcome), its team lost one
// hamlet, and a new code enrolled the same replica. Its first sync pushes
// the households (written while the hamlet was the team's: accepted) and
// must then drop the lost hamlet's rows, as any replica whose team lost a
// hamlet does. The server's log is empty at that Welcome (this laptop is
// the first to write), so no first clone drops its synced rows: only the
// held scope noted at enrolment (agent/enroll.go EnrollWith) says a hamlet
// was lost.
func TestReenrolledAfterLosingHamletDropsIt(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, tok := realAgent(t, ts, ts.TeamA)
	en, err := a.Enrollment(ctx)
	require.NoError(t, err)

	keep, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ giữ"})
	require.NoError(t, err)
	gone, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": lost, "head_name": "Hộ chuyển tổ"})
	require.NoError(t, err)
	_, err = a.AddTutoring(ctx, gone, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	require.Equal(t, map[string]int{kept: 1, lost: 2}, rowsByHamlet(t, a))

	require.NoError(t, ts.Admin.RevokeDevice(ctx, en.DeviceID))
	_, err = syncErr(a, ts, tok)
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})
	held, _, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Empty(t, held, "no Welcome noted the hamlets this replica holds")

	tick() // the writes above were made while the hamlet was the team's
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tok2, en2, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	require.Len(t, en2.Scope, 1)
	require.Equal(t, kept, en2.Scope[0].Code)

	pending, err := a.Pending(ctx)
	require.NoError(t, err)
	sum := realSync(t, a, ts, tok2)
	require.Equal(t, pending, sum.Pushed, "the writes made while the hamlet was the team's are accepted")
	require.Zero(t, sum.Rejected)
	require.Equal(t, map[string]int{kept: 1}, rowsByHamlet(t, a), "no row of the lost hamlet stays")
	require.NotNil(t, sum.ScopeChange, "the replica learns it lost a hamlet")
	require.Equal(t, []string{lost}, sum.ScopeChange.Lost)
	require.Equal(t, 2, sum.ScopeChange.Dropped)
	_, err = a.Show(ctx, "households", keep.String())
	require.NoError(t, err)
	pending, err = a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, pending)

	// Nothing was lost: a team now covering the hamlet holds the household.
	teamD, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ nhận ấp 2", []string{lost})
	require.NoError(t, err)
	d, td := realAgent(t, ts, teamD.ID)
	realSync(t, d, ts, td)
	got, err := d.Show(ctx, "households", gone.String())
	require.NoError(t, err)
	require.Equal(t, "Hộ chuyển tổ", got.Fields["head_name"])
}

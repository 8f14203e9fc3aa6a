package agent_test

import (
	"context"
	"fmt"
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
	t.Parallel()
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

// A laptop enrolled with one server (deployment) that never synced nor
// wrote may enroll with another (TestEnrollWithAnotherServerIsRefused):
// it holds no row of the first server's hamlets, so its first sync with
// the second has no hamlet to drop or to report lost, nor any it
// "gained": it clones its team's scope as any new laptop does. So too
// when it did sync with the first, while that server's log was empty (a
// new deployment): that Welcome noted hamlets of which it holds nothing.
// Here it writes in its new team's hamlets before its first sync with the
// second server.
func TestMovedBeforeFirstSyncReportsNoScopeChange(t *testing.T) {
	t.Parallel()
	for _, synced := range []bool{false, true} {
		t.Run(fmt.Sprintf("synced=%v", synced), func(t *testing.T) {
			ctx := context.Background()
			one, two := servertest.Start(t), servertest.Start(t)
			a, tokOne := realAgent(t, one, one.TeamA)
			if synced {
				sum := realSync(t, a, one, tokOne)
				require.Zero(t, sum.Pulled, "the first server's log is empty")
			}
			other, to := realAgent(t, two, two.TeamB)
			_, err := other.AddHousehold(ctx, agent.Fields{"hamlet_code": two.HamletsB[0], "head_name": "Hộ ở máy chủ hai"})
			require.NoError(t, err)
			realSync(t, other, two, to)

			tok, en, err := a.Enroll(ctx, two.URL, two.EnrollCode(t, two.TeamB), "máy thử")
			require.NoError(t, err)
			require.Equal(t, two.TeamB, en.TeamID)
			// Written before its first sync with the second server.
			_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": two.HamletsB[1], "head_name": "Hộ mới"})
			require.NoError(t, err)
			sum := realSync(t, a, two, tok)
			require.Equal(t, map[string]int{two.HamletsB[0]: 1, two.HamletsB[1]: 1}, rowsByHamlet(t, a))
			require.Nil(t, sum.ScopeChange, "a first sync, not a change of the team's hamlets")
			held, _, err := a.HeldScope(ctx)
			require.NoError(t, err)
			require.ElementsMatch(t, two.HamletsB, held)
		})
	}
}

// A laptop enrolled while its team held two hamlets, whose team gained a
// third (or lost one) before the laptop's first sync: that sync clones the
// team's hamlets, a first sync, not a change of the team's hamlets to
// report ("Your team gained hamlet(s) 32002-03: fetched 0 changes of them
// only", while the clone fetched them; "no longer covers hamlet(s)
// 32002-02: removed 0 of their records" of a laptop that held none).
func TestFirstSyncAfterTeamHamletsChangedReportsNoScopeChange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		gain, wrote bool
	}{{true, false}, {true, true}, {false, false}} {
		t.Run(fmt.Sprintf("gain=%v,wrote=%v", c.gain, c.wrote), func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			gained := ts.OtherHamletA
			teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
			require.NoError(t, err)
			other, to := realAgent(t, ts, teamC.ID)
			_, err = other.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C"})
			require.NoError(t, err)
			realSync(t, other, ts, to)

			a, ta := realAgent(t, ts, ts.TeamA)
			want := map[string]int{}
			if c.wrote {
				_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ A"})
				require.NoError(t, err)
				want[ts.HamletsA[0]] = 1
			}
			if c.gain {
				changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
				require.NoError(t, err)
				require.True(t, changed)
				want[gained] = 1
			} else {
				changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, ts.HamletsA[1])
				require.NoError(t, err)
				require.True(t, changed)
			}
			sum := realSync(t, a, ts, ta)
			require.Equal(t, want, rowsByHamlet(t, a))
			require.Nil(t, sum.ScopeChange, "a first sync, not a change of the team's hamlets")
		})
	}
}

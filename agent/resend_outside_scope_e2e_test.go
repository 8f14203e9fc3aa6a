package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// reportRefusedInALostHamlet: a laptop files, offline, a report in a
// hamlet its team has just lost; the sync refuses it and drops the hamlet.
// It returns the report and its refusal's id.
func reportRefusedInALostHamlet(t *testing.T, ts *servertest.TS, a *agent.Replica, tok, lost string) (uuid.UUID, int64) {
	t.Helper()
	ctx := context.Background()
	realSync(t, a, ts, tok)
	tick()
	_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	tick()
	rep, err := a.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": lost, "category": "ha_tang_do_thi", "description": "cống ở đầu ấp bị tắc"})
	require.NoError(t, err)
	sum := realSync(t, a, ts, tok)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{lost}, sum.ScopeChange.Lost)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej)
	for _, x := range rej {
		require.Equal(t, rep.String(), x.Row, "the report's fields are its only refusals")
	}
	_, err = a.Show(ctx, "field_reports", rep.String())
	require.Error(t, err, "the report left with its hamlet")
	return rep, rej[0].ID
}

// Seed 5803541 (wide, fixing world): a report refused because its hamlet
// had left the team was sent again from the rejected list while the
// laptop still knew the hamlet as lost; the team had that minute got the
// hamlet back, and lost it again before the laptop's next sync. The server
// took the report (the team held the hamlet when it was written), and the
// Welcome's hamlets were those the laptop held, so nothing dropped it:
// the laptop kept, live, a report of a hamlet its team does not cover.
// Sending again is a write like any other: it is refused at once in a
// hamlet the laptop last heard its team does not cover, and the refusal
// stays listed.
func TestSendingAgainIntoAHamletTheTeamLostIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	lost := ts.HamletsA[1]
	a, tok := realAgent(t, ts, ts.TeamA)
	rep, id := reportRefusedInALostHamlet(t, ts, a, tok, lost)

	tick()
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	tick()
	fixErr := a.FixRejected(ctx, id, nil)
	tick()
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	tick()
	realSync(t, a, ts, tok)

	_, err = a.Show(ctx, "field_reports", rep.String())
	require.Error(t, err, "the laptop holds a report of a hamlet its team does not cover")
	var se *agent.ScopeError
	require.True(t, errors.As(fixErr, &se), "sending again into a hamlet the team lost: %v", fixErr)
	require.Equal(t, lost, se.Hamlet)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej, "the refusal stays listed")
	require.Equal(t, id, rej[0].ID)
}

// Once a sync has brought the hamlet back, the report goes again and the
// server takes it.
func TestSendingAgainAfterTheTeamGotTheHamletBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	lost := ts.HamletsA[1]
	a, tok := realAgent(t, ts, ts.TeamA)
	rep, id := reportRefusedInALostHamlet(t, ts, a, tok, lost)

	tick()
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	tick()
	realSync(t, a, ts, tok)
	held, _, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Contains(t, held, lost)
	require.NoError(t, a.FixRejected(ctx, id, nil))
	sum := realSync(t, a, ts, tok)
	require.Zero(t, sum.Rejected)
	got, err := a.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err)
	require.Equal(t, lost, got.Hamlet)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	_, err = b.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err, "a teammate receives the report sent again")
}

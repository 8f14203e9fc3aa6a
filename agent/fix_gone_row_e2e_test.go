package agent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A household moved to another team's hamlet while the laptop was
// offline: the edit made after the move is refused and the household
// leaves the laptop. Sent again from the rejected list, the edit made the
// household again on the laptop out of that one field, a live household
// without a head or a hamlet, and was refused again (simulation, fixing
// world, seed 9100013). Sending again a change of a record the laptop no
// longer holds, and which the change alone cannot make, says so and
// changes nothing: discarding it is what is left.
func TestSendingAgainAnEditOfARecordThatLeftSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	from, to := ts.HamletsA[0], ts.HamletsB[0]
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": from, "head_name": "Lê Văn Tâm"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	mover := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	w := servertest.NewWriter(mover.Replica, time.Now)
	ack, err := mover.Push(1, []syncproto.Change{w.Write("households", hh, schema.ScopeField, syncproto.String(to), from)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	tick()
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"address": "sửa sau khi chuyển"}))
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Rejected)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1)

	err = a.FixRejected(ctx, rej[0].ID, nil)
	var gone *agent.RecordGoneError
	require.True(t, errors.As(err, &gone), "sending again an edit of a household that left: %v", err)
	require.Contains(t, agent.MessageOf(err, "vi"), "Bỏ")
	require.Contains(t, agent.MessageOf(err, "en"), "Discard")
	_, err = a.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household is not made again on the laptop out of one field")
	rej2, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Equal(t, rej, rej2, "the refused edit stays listed")
	require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop whose date ran three days ahead before it ever synced dates a
// new household after the server's tomorrow: the server refuses the row
// whole (issue 13 defect 3), every field in 'rejected'. Fixing the one
// date sends the row whole again, and it is accepted.
func TestRejectedNewRowIsFixedWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	ahead := func() time.Time { return time.Now().Add(72 * time.Hour) }
	a := agenttest.New(t, agent.Options{Now: ahead})
	tok, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy lệch ngày")
	require.NoError(t, err)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Đỗ Văn Lành", "phone": "0912345678"})
	require.NoError(t, err)
	realSync(t, a, ts, tok)

	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 5, "hamlet, head, phone, active, registration date: refused together")
	var date int64
	for _, x := range rej {
		require.Equal(t, hh.String(), x.Row)
		require.NotNil(t, x.Why, "the reason as data")
		require.Contains(t, []string{schema.CodeInFuture, refusal.RequiredInNewRow, schema.CodeRequired}, x.Why.Key)
		require.Equal(t, "households", x.Why.Params["table"])
		if x.Field == "registered_on" {
			date = x.ID
		}
	}
	require.NotZero(t, date)

	require.NoError(t, a.FixRejected(ctx, date, schema.Today(time.Now())))
	sum := realSync(t, a, ts, tok)
	require.Equal(t, 5, sum.Pushed)
	require.Zero(t, sum.Rejected)
	rej, err = a.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	d, err := b.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Đỗ Văn Lành", d.Fields["head_name"])
	require.Equal(t, schema.Today(time.Now()), d.Fields["registered_on"])
}

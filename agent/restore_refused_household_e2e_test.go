package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
)

// A laptop whose clock runs days ahead adds a household offline, adds
// another, then moves the first to the team's other hamlet and deletes
// it. The first household's changes are two runs of the outbox, so they
// go in two pushes: its adding is refused (a registration date after
// tomorrow by the server's clock), its move and delete are taken as a
// tombstone. The volunteer restores it: the server refuses the restore,
// which would make live a household without its head's name (simulation,
// seed 4694609: every device of the hamlet received that partial row),
// and says how to go on. Once the date is corrected, the household goes
// again whole, restored, in the hamlet it was moved to.
func TestRestoringAHouseholdWhoseAddingWasRefusedWaitsForIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day := laptopAhead(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]

	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	_, err = l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Trần Văn Tư", "registered_on": day(-1)})
	require.NoError(t, err)
	first, err := l.Pending(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Update(ctx, "households", hh, agent.Fields{"hamlet_code": other}))
	require.NoError(t, l.Delete(ctx, "households", hh))
	s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second, BatchSize: first})
	require.NoError(t, err)
	require.NotZero(t, s.Rejected, "the adding is refused")

	require.NoError(t, l.Restore(ctx, "households", hh))
	realSync(t, l, ts, tok)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	var dateID int64
	restore := false
	for _, x := range rej {
		switch {
		case x.Row == hh.String() && x.Field == "registered_on":
			dateID = x.ID
		case x.Row == hh.String() && x.Field == schema.DeletedField:
			require.NotNil(t, x.Why, "%+v", x)
			require.Equal(t, refusal.RestoreIncomplete, x.Why.Key, "%+v", x)
			require.Contains(t, x.Text("vi"), "Hãy sửa và gửi lại")
			restore = true
		}
	}
	require.NotZero(t, dateID, "the date is refused: %+v", rej)
	require.True(t, restore, "the restore is refused, and listed: %+v", rej)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	if partial, err := mate.Show(ctx, "households", hh.String()); err == nil {
		require.True(t, partial.Deleted, "a teammate never holds the household live without its head's name: %+v", partial.Record)
	}

	require.NoError(t, l.FixRejected(ctx, dateID, day(-2)))
	realSync(t, l, ts, tok)
	rej, err = l.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej, "the household went again whole, restored")
	realSync(t, mate, ts, tm)
	d, err := mate.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the teammate holds the household")
	require.Equal(t, "Lê Thị Hoa", d.Fields["head_name"])
	require.Equal(t, other, d.Fields["hamlet_code"], "where the volunteer moved it")
	mine, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, d.Fields, mine.Fields, "the laptop and the server agree")
}

package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/refusal"
)

// A household is refused whole (its registration date is after tomorrow
// by the server's clock: the laptop's clock ran days ahead), and with it
// the visit and the tutoring record the volunteer logged there, refused
// because the server does not hold the household (household_missing).
// The volunteer corrects the date and sends the household again: the
// records refused for its absence go again with it, without a press on
// each (stop 35 left each to its own «Sửa và gửi lại»).
func TestFixingARefusedHouseholdSendsItsRecordsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day := laptopAhead(t)
	hamlet := ts.HamletsA[0]

	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	visit, err := l.AddVisit(ctx, hh, agent.Fields{"visited_on": day(-1)})
	require.NoError(t, err)
	tutoring, err := l.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent", "taught_on": day(-1)})
	require.NoError(t, err)
	s := realSync(t, l, ts, tok)
	require.NotZero(t, s.Rejected)

	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	var dateID int64
	missing := map[string]bool{}
	for _, x := range rej {
		switch {
		case x.Row == hh.String() && x.Field == "registered_on":
			dateID = x.ID
		case x.Why != nil && x.Why.Key == refusal.HouseholdMissing:
			missing[x.Row] = true
		}
	}
	require.NotZero(t, dateID, "the date is refused: %+v", rej)
	require.Equal(t, map[string]bool{visit.String(): true, tutoring.String(): true}, missing,
		"the visit and the tutoring record are refused for the household's absence: %+v", rej)

	require.NoError(t, l.FixRejected(ctx, dateID, day(-2)))
	rej, err = l.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej, "the household and its records go again")
	realSync(t, l, ts, tok)
	rej, err = l.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)

	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	for table, id := range map[string]string{"households": hh.String(), "visits": visit.String(), "tutoring_records": tutoring.String()} {
		d, err := mate.Show(ctx, table, id)
		require.NoError(t, err, "the teammate holds the %s row", table)
		require.NotEmpty(t, d.Fields)
	}
}

// A new household refused whole: discarding its registration date leaves
// a household that can go again; discarding its hamlet leaves none, so
// the household goes whole, its other refused writes with it. Field by
// field, the volunteer who discarded the hamlet kept a live household
// without one, partial here for good (simulation, fixing world, seed
// 9100104).
func TestDiscardingARequiredFieldOfARefusedNewHouseholdDiscardsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day := laptopAhead(t)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Thị Hoa", "phone": "0912000111", "registered_on": day(3)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)

	byField := func() map[string]int64 { return rejectedByField(t, l) }
	refused := byField()
	require.Contains(t, refused, "registered_on")
	require.Contains(t, refused, "hamlet_code")
	require.NoError(t, l.DiscardRejected(ctx, refused["registered_on"]))
	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "without its date the household is whole")
	require.Equal(t, "Lê Thị Hoa", d.Fields["head_name"])
	require.NotContains(t, byField(), "registered_on")

	require.NoError(t, l.DiscardRejected(ctx, refused["hamlet_code"]))
	_, err = l.Show(ctx, "households", hh.String())
	require.Error(t, err, "a household without its hamlet is discarded whole")
	require.Empty(t, byField(), "its other refused writes went with it")
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	realSync(t, l, ts, tok)
	require.Empty(t, byField())
}

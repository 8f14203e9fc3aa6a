package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A household is refused whole (its registration date is after tomorrow
// by the server's clock: the laptop's clock ran days ahead), and with it
// the visit and the tutoring record the volunteer logged there, refused
// because the server does not hold the household (household_missing).
// The volunteer corrects the date and sends the household again: the
// records refused for its absence go again with it, without a press on
// each (stop 35 left each to its own «Sửa và gửi lại»).
func TestFixingARefusedHouseholdSendsItsRecordsAgain(t *testing.T) {
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	hamlet := ts.HamletsA[0]
	ahead := &fakeClock{t: real.now().Add(5 * 24 * time.Hour)}
	l, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "l.db"), agent.Options{Now: ahead.now})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }

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

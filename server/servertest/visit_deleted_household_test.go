package servertest

// Review 35d (6709e97): a visit recorded offline on a household that a
// teammate deleted meanwhile was taken while the household was only
// deleted, and refused household_missing once collection had dropped it
// (a device silent past the horizon); that refusal could not be fixed
// from the laptop (sent again, refused again; the household, collected,
// cannot be sent again). Both are taken now.

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func visitOfADeletedHousehold(t *testing.T, collect bool) []syncproto.Result {
	ctx := context.Background()
	clk := &fakeNow{t: time.Now()}
	ts := Start(t, WithConfig(func(c *server.Config) { c.Now = clk.now }))
	h0 := ts.HamletsA[0]
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, devB)
	wa, wb := NewWriter(devA.Replica, clk.now), NewWriter(devB.Replica, clk.now)
	hh := uuid.New()
	ack, err := a.Push(1, wa.Household(hh, h0, "Lê Thị Hoa"))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	cs, _, to, err := b.PullAll(0)
	require.NoError(t, err)
	for _, c := range cs {
		wb.Saw(c)
	}
	ackPast(t, b, to)
	require.NoError(t, b.Close())
	WaitSessions(t, ts, 1)
	// B's volunteer visits the family, offline.
	visit := uuid.New()
	vcs := []syncproto.Change{
		wb.Write("visits", visit, schema.ScopeField, syncproto.String(h0), h0),
		wb.Write("visits", visit, "household_id", syncproto.String(hh.String()), h0),
		wb.Write("visits", visit, "volunteer_id", syncproto.String(uuid.NewString()), h0),
		wb.Write("visits", visit, "visited_on", syncproto.String(schema.Today(clk.now())), h0),
	}
	clk.advance(server.DefaultSilentAfter + 10*24*time.Hour)
	a2 := ts.Connect(t, devA)
	_, err = a2.Push(2, []syncproto.Change{wa.Write("households", hh, schema.DeletedField, syncproto.Bool(true), h0)})
	require.NoError(t, err)
	ackPast(t, a2, 0)
	if collect {
		st, err := ts.Server.GC(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, st.Rows, "the household is collected")
	}
	b2 := ts.Connect(t, devB)
	ack, err = b2.Push(1, vcs)
	require.NoError(t, err)
	return ack.Results
}

func TestVisitOfADeletedHouseholdIsTakenCollectedOrNot(t *testing.T) {
	kept := visitOfADeletedHousehold(t, false)
	gone := visitOfADeletedHousehold(t, true)
	t.Logf("household tombstoned only: visit %v", kept[0].Status)
	t.Logf("household collected:       visit %v %s %s", gone[0].Status, gone[0].Code, gone[0].Why.Key)
	for _, res := range [][]syncproto.Result{kept, gone} {
		for _, r := range res {
			require.Equal(t, syncproto.ResultApplied, r.Status, "the visit, the volunteer's work, is taken: %+v", r)
		}
	}
}

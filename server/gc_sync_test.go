package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// pullPast pulls everything after cursor, then pulls again from where that
// ended with Durable set: the second pull acknowledges the first's answer
// as stored, which is what tombstone GC counts.
func pullPast(t *testing.T, c *servertest.Client, cursor uint64) uint64 {
	t.Helper()
	_, _, to, err := c.PullAll(cursor)
	require.NoError(t, err)
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: to, Durable: to}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	return m.(*syncproto.Changes).To
}

// Tombstone GC through the real sync path: a household is created and
// deleted on one device; GC keeps it while a device of the team has not
// pulled past the delete, and drops the row state, its log entries and
// its data once both devices have.
func TestTombstoneGCThroughSync(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	hamlet := ts.HamletsA[0]
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, devB)
	wa := servertest.NewWriter(devA.Replica, nil)

	row := uuid.New()
	_, err := a.Push(1, []syncproto.Change{
		wa.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		wa.Write("households", row, "head_name", syncproto.String("Lê Thị Hoa"), hamlet),
	})
	require.NoError(t, err)
	curB := pullPast(t, b, 0) // B holds the household
	_, err = a.Push(2, []syncproto.Change{wa.Write("households", row, schema.DeletedField, syncproto.Bool(true), hamlet)})
	require.NoError(t, err)

	// What the store holds of the row, read through its port: its state,
	// its log entries (all in hamlet) and its materialised data.
	rows := func() int {
		n := 0
		require.NoError(t, ts.Store.Update(ctx, func(tx server.Tx) error {
			_, ok, err := tx.Row("households", row)
			if ok {
				n = 1
			}
			return err
		}))
		return n
	}
	entries := func() int {
		page, err := ts.Store.ReadLog(ctx, server.LogQuery{Scopes: []string{hamlet}, Limit: 1000})
		require.NoError(t, err)
		n := 0
		for _, e := range page.Entries {
			if e.Change.Row == row {
				n++
			}
		}
		return n
	}
	data := func() int {
		n := 0
		require.NoError(t, ts.Store.AnalyticsSource().Load(ctx, "households", []string{row.String()}, func(string, map[string]any) error {
			n++
			return nil
		}))
		return n
	}
	require.Equal(t, 1, rows())
	require.Equal(t, 3, entries())
	require.Equal(t, 1, data())

	// A pulls past the delete; B has not: B holds GC back.
	pullPast(t, a, 0)
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Rows, "GC dropped a tombstone a device had not pulled")
	require.Equal(t, 1, rows())
	require.Equal(t, 3, entries())

	// B pulls past it (and sees the delete): now it goes.
	_, _, to, err := b.PullAll(curB)
	require.NoError(t, err)
	pullPast(t, b, to)
	st, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	require.Equal(t, 3, st.Entries)
	require.Zero(t, rows())
	require.Zero(t, entries())
	require.Zero(t, data())

	// A device enrolled later starts clean: nothing of the row reaches it.
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	cs, ev, _, err := c.PullAll(0)
	require.NoError(t, err)
	require.Empty(t, ev)
	for _, ch := range cs {
		require.NotEqual(t, row, ch.Row)
	}
}

// A pull from below the log floor of the device's scopes is refused with
// what to do (an agent too old for Welcome.Reclone would otherwise miss
// the collected entries silently); from the floor on it is answered.
func TestPullBelowLogFloorRefused(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	row := uuid.New()
	hamlet := ts.HamletsA[0]
	var cs []syncproto.Change
	for _, f := range []string{"hamlet_code", "head_name", "notes"} {
		cs = append(cs, w.Write("households", row, f, syncproto.String(hamlet), hamlet))
	}
	_, err := c.Push(1, cs)
	require.NoError(t, err)
	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error { return tx.RaiseFloor(hamlet, 2) }))

	ch, err := c.Pull(2, 0)
	require.NoError(t, err, "from the floor on, pulls are answered")
	require.Equal(t, uint64(3), ch.To)

	c2 := ts.Connect(t, dev)
	require.NoError(t, c2.Send(&syncproto.Pull{Cursor: 1}))
	m, err := c2.RecvAnswer()
	if err == nil {
		em, ok := m.(*syncproto.ErrorMsg)
		require.True(t, ok, "want an error, got %T", m)
		err = em.Err()
	}
	var pe *syncproto.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, syncproto.CodeBadCursor, pe.Code)
	require.Contains(t, pe.Msg, "update hamlet-agent")
}

// A device that pulled a page and went silent before its next Pull (the
// one that acknowledges what it stored, Durable) is known to the server
// at cursor 0. When it returns after its scopes' log was collected above
// that, it is told to clone again: otherwise it pulls from its own cursor,
// is refused below the floor, and stays refused at every sync (found by
// the simulation: make sim SEED=32 SILENT=1).
func TestUnacknowledgedCursorBelowFloorReclones(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	require.False(t, c.Welcome.Reclone, "a new device with nothing collected")
	w := servertest.NewWriter(dev.Replica, nil)
	row := uuid.New()
	hamlet := ts.HamletsA[0]
	_, err := c.Push(1, []syncproto.Change{
		w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		w.Write("households", row, "head_name", syncproto.String("Lê Văn Tám"), hamlet),
	})
	require.NoError(t, err)
	ch, err := c.Pull(0, 0) // stored by the agent, never acknowledged
	require.NoError(t, err)
	require.Equal(t, uint64(2), ch.To)
	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error { return tx.RaiseFloor(hamlet, 2) }))

	back := ts.Connect(t, dev)
	require.True(t, back.Welcome.Reclone, "a device at acknowledged cursor 0, below the floor 2, is told to clone again")
}

// fakeNow is a test's wall clock for the server and its writers.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeNow) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// An edit of a row the server deleted and collected, from a device silent
// past the horizon that never heard of the delete, is refused naming the
// row: it does not make the row again, live, from the edited fields alone
// (a household of a head and a hamlet, every other field gone), for every
// device to pull (issue 17; make sim SEED=43 SILENT=1 before the fix: "L3
// does not hold what the server holds in households …: lacks 7112937d").
func TestEditOfCollectedRowRefused(t *testing.T) {
	ctx := context.Background()
	clk := &fakeNow{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	h0, h1 := ts.HamletsA[0], ts.HamletsA[1]
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, devB)
	wa, wb := servertest.NewWriter(devA.Replica, clk.now), servertest.NewWriter(devB.Replica, clk.now)

	row := uuid.New()
	ack, err := a.Push(1, []syncproto.Change{
		wa.Write("households", row, "hamlet_code", syncproto.String(h0), h0),
		wa.Write("households", row, "head_name", syncproto.String("Lê Thị Hoa"), h0),
		wa.Write("households", row, "members_count", syncproto.Int(4), h0),
	})
	require.NoError(t, err)
	require.Equal(t, 3, countStatus(ack, syncproto.ResultApplied))
	cs, _, to, err := b.PullAll(0)
	require.NoError(t, err)
	for _, c := range cs {
		wb.Saw(c)
	}
	pullPast(t, b, to) // B holds the household, and says so
	// B's volunteer corrects the head and the hamlet, offline: one push
	// will carry every field a new household needs.
	edits := []syncproto.Change{
		wb.Write("households", row, "head_name", syncproto.String("Lê Thị Hòa"), h0),
		wb.Write("households", row, "hamlet_code", syncproto.String(h1), h0),
	}
	// B goes silent past the horizon; A deletes the household, pulls past
	// the delete, and collection drops it.
	clk.advance(server.DefaultSilentAfter + 10*24*time.Hour)
	a2 := ts.Connect(t, devA)
	_, err = a2.Push(2, []syncproto.Change{wa.Write("households", row, schema.DeletedField, syncproto.Bool(true), h0)})
	require.NoError(t, err)
	pullPast(t, a2, 0)
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows, "the household is collected")

	// B returns with its edits.
	b2 := ts.Connect(t, devB)
	ack, err = b2.Push(1, edits)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultRefused, r.Status, "an edit of a collected row is not applied: %+v", r)
		require.Equal(t, syncproto.CodeRowCollected, r.Code)
		require.Equal(t, row.String(), r.Why.Params["row"])
	}
	require.NoError(t, ts.Store.Update(ctx, func(tx server.Tx) error {
		_, ok, err := tx.Row("households", row)
		require.False(t, ok, "the collected household is not made again")
		return err
	}))
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	cs, _, _, err = c.PullAll(0)
	require.NoError(t, err)
	for _, ch := range cs {
		require.NotEqual(t, row, ch.Row, "a device enrolled later receives nothing of the household")
	}

	// A new household sent whole is still taken, and so is one whose first
	// push was refused and that is sent again with its writes based on the
	// refused ones (the agent's rejected fix).
	fresh := uuid.New()
	ack, err = b2.Push(2, wb.Household(fresh, h1, "Trần Văn Ba"))
	require.NoError(t, err)
	require.Equal(t, 2, countStatus(ack, syncproto.ResultApplied))
	again := uuid.New()
	ack, err = b2.Push(3, []syncproto.Change{wb.Write("households", again, "hamlet_code", syncproto.String(h1), h1)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultRefused, ack.Results[0].Status, "a household without a head")
	ack, err = b2.Push(4, []syncproto.Change{
		wb.Write("households", again, "hamlet_code", syncproto.String(h1), h1),
		wb.Write("households", again, "head_name", syncproto.String("Trần Thị Tư"), h1),
	})
	require.NoError(t, err)
	require.Equal(t, 2, countStatus(ack, syncproto.ResultApplied), "%+v", ack.Results)
}

func countStatus(ack *syncproto.Ack, s syncproto.ResultStatus) int {
	n := 0
	for _, r := range ack.Results {
		if r.Status == s {
			n++
		}
	}
	return n
}

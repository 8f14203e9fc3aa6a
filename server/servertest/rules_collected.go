package servertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// RunCollectionRules is issue 17's found defects around collection, on
// each store: what a device that did not hear of a collection pushes or
// pulls after it.
func RunCollectionRules(t *testing.T, start StartFunc) {
	t.Run("edit of a collected row refused", func(t *testing.T) { editOfCollectedRowRefused(t, start) })
	t.Run("unacknowledged cursor below the floor reclones", func(t *testing.T) { unacknowledgedCursorBelowFloorReclones(t, start) })
	t.Run("compaction past a silent device reclones it", func(t *testing.T) { compactionPastSilentDeviceReclones(t, start) })
	t.Run("a returning device holds collection back from its Hello", func(t *testing.T) {
		t.Run("the periodic job", func(t *testing.T) {
			returningDeviceHoldsCollectionBack(t, start, func(ts *TS, _ time.Time) error {
				ts.Server.RunJob(context.Background(), server.JobGC)
				return nil
			})
		})
		t.Run("another process", func(t *testing.T) {
			returningDeviceHoldsCollectionBack(t, start, func(ts *TS, now time.Time) error {
				// hamlet-server gc --truncate-log from the command line: it
				// reads only what the store holds.
				_, err := server.Collect(context.Background(), ts.Store, server.GCOptions{
					Truncate: true, SilentBefore: now.Add(-server.DefaultSilentAfter)})
				return err
			})
		})
	})
	t.Run("a device in session holds collection back", func(t *testing.T) { sessionHoldsCollectionBack(t, start) })
	t.Run("a session open past the horizon holds collection back", func(t *testing.T) { openSessionHoldsCollectionBack(t, start) })
	t.Run("a clone resumed below the floor starts again", func(t *testing.T) { cloneResumedBelowFloorRefused(t, start) })
}

// A clone resumed after collection raised the log floor above its head
// (the device silent past the horizon while its clone waited) is refused:
// the chunks to come leave out what the pull from the head brings, and
// rows added before the position come only by that pull, and the log no
// longer holds all of it (make sim SEED=15747 TRUNCATE=1 SILENT=1: "L4
// does not hold what the server holds in households …: lacks 3035c78b";
// agent.TestCloneResumedAfterLogTruncated,
// agent.TestCloneResumedAfterItsLogWasCollected).
func cloneResumedBelowFloorRefused(t *testing.T, start StartFunc) {
	ts := start(t, func(*server.Config) {})
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := NewWriter(dev.Replica, nil)
	hamlet := ts.HamletsA[0]
	for _, head := range []string{"Lý Văn Một", "Lý Văn Hai"} {
		_, err := c.Push(1, w.Household(uuid.New(), hamlet, head))
		require.NoError(t, err)
	}
	require.NoError(t, c.Send(&syncproto.SnapshotRequest{Limit: 1}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	first := m.(*syncproto.SnapshotChunk)
	require.True(t, first.More)
	resume := &syncproto.SnapshotRequest{Head: first.Head, After: first.To, Limit: 1}
	require.NoError(t, c.Send(resume))
	_, err = c.RecvAnswer()
	require.NoError(t, err, "a resume at the floor")

	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error { return tx.RaiseFloor(hamlet, first.Head+1) }))
	require.NoError(t, c.Send(resume))
	_, err = c.RecvAnswer()
	require.Error(t, err, "a clone resumed below the floor was answered")
	require.Equal(t, syncproto.CodeBadCursor, syncproto.CodeOf(err))
	require.NoError(t, c.Send(&syncproto.SnapshotRequest{Limit: 1}))
	_, err = c.RecvAnswer()
	require.NoError(t, err, "a clone started again")
}

// A device the serving process holds a session of is in contact now,
// however long ago it last pushed or pulled: the serving process's
// collection counts it. Before, a session whose last request (a pull
// answered page by page, a push waiting on the committer) was older than
// the horizon was taken for silent, and a tombstone above its cursor was
// dropped under it (make sim SEED=10919 TRUNCATE=1 SILENT=1: "L1 does not
// hold what the server holds in households …: holds d469173c, which the
// server does not"; seed 14927: "L4 … holds e24cfb4f").
func openSessionHoldsCollectionBack(t *testing.T, start StartFunc) {
	clk := &fakeNow{t: time.Now()}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	hamlet := ts.HamletsA[0]
	devA, devS := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	wa := NewWriter(devA.Replica, clk.now)
	row := uuid.New()
	_, err := a.Push(1, wa.Household(row, hamlet, "Võ Văn Mười Một"))
	require.NoError(t, err)
	_, err = a.Push(2, []syncproto.Change{wa.Write("households", row, schema.DeletedField, syncproto.Bool(true), hamlet)})
	require.NoError(t, err)
	ackPast(t, a, 0)
	require.NoError(t, a.Close())

	s := ts.Connect(t, devS)
	first, err := s.Pull(0, 1)
	require.NoError(t, err)
	require.True(t, first.More)
	require.Equal(t, row, first.Changes[0].Row)
	WaitSessions(t, ts, 1) // A's ended before the clock moves on
	clk.advance(server.DefaultSilentAfter + 24*time.Hour)
	ts.Server.RunJob(context.Background(), server.JobGC)
	require.True(t, requireDeleteReaches(t, s, first.To, row), "S learns that the household it began to pull was deleted")
}

// WaitSessions waits until the server holds n sync sessions: a client's
// Close ends its session on the server a moment later, and until then
// the server's collection counts its device as in contact.
func WaitSessions(t testing.TB, ts *TS, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; ; i++ {
		st, err := ts.Server.Admin().SyncStatus(ctx)
		require.NoError(t, err)
		if st.Agents == n {
			return
		}
		require.Less(t, i, 2000, "the server still holds %d sessions, not %d", st.Agents, n)
		time.Sleep(5 * time.Millisecond)
	}
}

// A device in session whose last contact in the store is older than the
// horizon, but which pulled since, is not silent: the serving process's
// collection writes the activity it holds before it reads which devices
// are. Before, the periodic job did not (the admin's gc did): it took a
// device that had pulled part of the log for silent, dropped a tombstone
// above its cursor, and the device's later pulls in the same session, no
// longer checked against the floor, never brought the delete (make sim
// SEED=20943 TRUNCATE=1 SILENT=1: "L1 does not hold what the server holds
// in households …: holds 059d76c2, which the server does not").
func sessionHoldsCollectionBack(t *testing.T, start StartFunc) {
	clk := &fakeNow{t: time.Now()}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	hamlet := ts.HamletsA[0]
	devA, devS := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	wa := NewWriter(devA.Replica, clk.now)
	row := uuid.New()
	_, err := a.Push(1, wa.Household(row, hamlet, "Võ Thị Mười"))
	require.NoError(t, err)
	_, err = a.Push(2, []syncproto.Change{wa.Write("households", row, schema.DeletedField, syncproto.Bool(true), hamlet)})
	require.NoError(t, err)
	ackPast(t, a, 0)
	require.NoError(t, a.Close())

	// S connects, within the horizon; its session stays open past it (a
	// push of its own waits on a slow link, say), then it pulls a first
	// page: the household's first field, not its delete. A is silent by
	// then.
	WaitSessions(t, ts, 0)
	s := ts.Connect(t, devS)
	ts.Server.RunJob(context.Background(), server.JobFlush)
	clk.advance(server.DefaultSilentAfter + 24*time.Hour)
	first, err := s.Pull(0, 1)
	require.NoError(t, err)
	require.True(t, first.More)
	require.Equal(t, row, first.Changes[0].Row)
	ts.Server.RunJob(context.Background(), server.JobGC)
	require.True(t, requireDeleteReaches(t, s, first.To, row), "S learns that the household it began to pull was deleted")
}

// requireDeleteReaches pulls from cursor (acknowledging it) to the end and
// says whether a delete of row came.
func requireDeleteReaches(t *testing.T, s *Client, cursor uint64, row uuid.UUID) bool {
	t.Helper()
	require.NoError(t, s.Send(&syncproto.Pull{Cursor: cursor, Durable: cursor}))
	m, err := s.RecvAnswer()
	require.NoError(t, err, "S, pulling, is refused its next page: the collection took it for silent")
	var deleted bool
	for {
		ch := m.(*syncproto.Changes)
		for _, c := range ch.Changes {
			if c.Row == row && c.Field == schema.DeletedField {
				deleted = c.Value.AsBool()
			}
		}
		if !ch.More {
			return deleted
		}
		if m, err = s.Pull(ch.To, 0); err != nil {
			require.NoError(t, err)
		}
	}
}

// A device silent past the horizon that comes back counts again from its
// Hello, for every collection, whichever process runs it: not from the
// next activity flush. Before, a collection that ran between its Welcome
// and that flush still took it for silent and, with no other device of
// its hamlets active, dropped a tombstone above its cursor while it was
// pulling: its next Pull was refused below the raised floor, the agent
// pulled again from 0 (the log of a restored server, §7.5), and it kept a
// household every other replica had deleted (the simulation's silent
// world, make sim SEED=4047 TRUNCATE=1 SILENT=1: "L1 does not hold what
// the server holds in households …: holds 24ab6e9e, which the server does
// not").
func returningDeviceHoldsCollectionBack(t *testing.T, start StartFunc, gc func(ts *TS, now time.Time) error) {
	clk := &fakeNow{t: time.Now()}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	hamlet := ts.HamletsA[0]
	devA, devS := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	wa := NewWriter(devA.Replica, clk.now)
	row := uuid.New()
	_, err := a.Push(1, wa.Household(row, hamlet, "Võ Văn Chín"))
	require.NoError(t, err)
	_, err = a.Push(2, []syncproto.Change{wa.Write("households", row, schema.DeletedField, syncproto.Bool(true), hamlet)})
	require.NoError(t, err)
	ackPast(t, a, 0)
	require.NoError(t, a.Close())
	WaitSessions(t, ts, 0)
	ts.Server.RunJob(context.Background(), server.JobFlush)

	// Both devices silent past the horizon; S returns and pulls a first
	// page: the household's first field, not its delete.
	clk.advance(server.DefaultSilentAfter + 24*time.Hour)
	s := ts.Connect(t, devS)
	require.False(t, s.Welcome.Reclone, "nothing was collected yet")
	first, err := s.Pull(0, 1)
	require.NoError(t, err)
	require.True(t, first.More)
	require.Len(t, first.Changes, 1)
	require.Equal(t, row, first.Changes[0].Row)

	require.NoError(t, gc(ts, clk.now()))
	require.True(t, requireDeleteReaches(t, s, first.To, row), "S learns that the household it began to pull was deleted")
}

// Compaction does not wait for a device silent past the horizon. When it
// removes an entry that device has not pulled (a superseded version whose
// successor, based on it, stays), the device returns below the log floor
// and is told to clone again: replaying the compacted log it would meet
// the successor without its base and record a conflict between writes
// that never competed (the simulation's silent world, seed 1). A device
// within the horizon holds compaction back and is not told anything.
func compactionPastSilentDeviceReclones(t *testing.T, start StartFunc) {
	ctx := context.Background()
	clk := &fakeNow{t: time.Now()}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	hamlet := ts.HamletsA[0]
	devA, devS := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, s := ts.Connect(t, devA), ts.Connect(t, devS)
	wa := NewWriter(devA.Replica, clk.now)
	row := uuid.New()
	_, err := a.Push(1, wa.Household(row, hamlet, "Đỗ Văn Năm"))
	require.NoError(t, err)
	ackPast(t, s, 0) // S holds the household, and says so
	require.NoError(t, s.Close())

	edit := func(batch uint64, head string) {
		t.Helper()
		a := ts.Connect(t, devA)
		_, err := a.Push(batch, []syncproto.Change{wa.Write("households", row, "head_name", syncproto.String(head), hamlet)})
		require.NoError(t, err)
		ackPast(t, a, 0)
		require.NoError(t, a.Close())
	}
	edit(2, "Đỗ Văn Sáu")
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Superseded, "the first head's entry, which S holds; S, within the horizon, holds the second's back")
	probe := ts.Connect(t, devS)
	require.False(t, probe.Welcome.Reclone, "nothing removed that S had not pulled")
	require.NoError(t, probe.Close())
	WaitSessions(t, ts, 0) // S in session would be in contact

	clk.advance(server.DefaultSilentAfter + 24*time.Hour)
	edit(3, "Đỗ Văn Bảy")
	st, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Superseded, "past the horizon S no longer holds compaction back")
	require.True(t, ts.Connect(t, devS).Welcome.Reclone, "S returns below what compaction removed: it clones again")
	require.False(t, ts.Connect(t, devA).Welcome.Reclone, "A, counted, holds everything compaction removed")
}

// ackPast pulls everything after cursor, then pulls again from where that
// ended with Durable set: the second pull acknowledges the first's answer
// as stored, which is what collection counts.
func ackPast(t *testing.T, c *Client, cursor uint64) uint64 {
	t.Helper()
	_, _, to, err := c.PullAll(cursor)
	require.NoError(t, err)
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: to, Durable: to}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	return m.(*syncproto.Changes).To
}

// A device that pulled a page and went silent before its next Pull (the
// one that acknowledges what it stored, Durable) is known to the server
// at cursor 0. When it returns after its scopes' log was collected above
// that, it is told to clone again: otherwise it pulls from its own cursor,
// is refused below the floor, and stays refused at every sync (found by
// the simulation: make sim SEED=9 SILENT=1).
func unacknowledgedCursorBelowFloorReclones(t *testing.T, start StartFunc) {
	ts := start(t, func(*server.Config) {})
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	require.False(t, c.Welcome.Reclone, "a new device with nothing collected")
	w := NewWriter(dev.Replica, nil)
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
func editOfCollectedRowRefused(t *testing.T, start StartFunc) {
	ctx := context.Background()
	clk := &fakeNow{t: time.Now()}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	h0, h1 := ts.HamletsA[0], ts.HamletsA[1]
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, devB)
	wa, wb := NewWriter(devA.Replica, clk.now), NewWriter(devB.Replica, clk.now)

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
	ackPast(t, b, to) // B holds the household, and says so
	require.NoError(t, b.Close())
	WaitSessions(t, ts, 1) // A's: B's session ends before the clock moves on
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
	ackPast(t, a2, 0)
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
	// B's volunteer corrects the head and the hamlet once more before the
	// refusal reaches the laptop: pushed in a later batch, the write is based on B's own
	// refused one, yet the row it edits is still collected (issue 17, the
	// simulation's silent seed 17783: it recreated the household, and a
	// team-mate's replica recorded a conflict between writes that never
	// competed).
	ack, err = b2.Push(2, []syncproto.Change{
		wb.Write("households", row, "head_name", syncproto.String("Lê Thị Hòa Bình"), h1),
		wb.Write("households", row, "hamlet_code", syncproto.String(h0), h1),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultRefused, r.Status, "an edit based on a write refused for the collected row: %+v", r)
		require.Equal(t, syncproto.CodeRowCollected, r.Code)
	}
	require.NoError(t, ts.Store.Update(ctx, func(tx server.Tx) error {
		_, ok, err := tx.Row("households", row)
		require.False(t, ok, "the collected household is not made again by a later edit")
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
	ack, err = b2.Push(3, wb.Household(fresh, h1, "Trần Văn Ba"))
	require.NoError(t, err)
	require.Equal(t, 2, countStatus(ack, syncproto.ResultApplied))
	again := uuid.New()
	ack, err = b2.Push(4, []syncproto.Change{wb.Write("households", again, "hamlet_code", syncproto.String(h1), h1)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultRefused, ack.Results[0].Status, "a household without a head")
	ack, err = b2.Push(5, []syncproto.Change{
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

package server_test

import (
	"context"
	"fmt"
	"testing"

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
	hamlet := ts.HamletsA[0]
	cs := threeFields(w, hamlet)
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

// A collection may raise the floor while a session is open: compaction
// past a device counted silent (its session idle past the horizon), or
// `hamlet-server gc --truncate-log` from another process. The session's
// next pull from below the new floor is refused like a new session's, not
// answered from a log thinned above its cursor: the replica would meet a
// version without the one it overwrote and record its own earlier write
// as a conflict (issue 17, silent seed 43 once the agent's read deadline
// was fixed: "L3's conflict log holds a write that did not compete").
func TestPullBelowFloorRaisedDuringSession(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	hamlet := ts.HamletsA[0]
	cs := threeFields(w, hamlet)
	_, err := c.Push(1, cs)
	require.NoError(t, err)
	ch, err := c.Pull(1, 0)
	require.NoError(t, err, "above the floor, a pull is answered")
	require.Equal(t, uint64(3), ch.To)

	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error { return tx.RaiseFloor(hamlet, 2) }))
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: 1}))
	m, err := c.RecvAnswer()
	if err == nil {
		em, ok := m.(*syncproto.ErrorMsg)
		require.True(t, ok, "the same session's pull from cursor 1, below the floor 2 a collection raised meanwhile, is refused; got %s", describeMsg(m))
		err = em.Err()
	}
	var pe *syncproto.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, syncproto.CodeBadCursor, pe.Code)
}

// threeFields is a new household in hamlet written by w: three changes,
// the log entries the floor tests pull and collect.
func threeFields(w *servertest.Writer, hamlet string) []syncproto.Change {
	row := uuid.New()
	var cs []syncproto.Change
	for _, f := range []string{"hamlet_code", "head_name", "notes"} {
		cs = append(cs, w.Write("households", row, f, syncproto.String(hamlet), hamlet))
	}
	return cs
}

func describeMsg(m syncproto.Message) string {
	if ch, ok := m.(*syncproto.Changes); ok {
		return fmt.Sprintf("Changes %d..%d with %d entries", ch.From, ch.To, len(ch.Changes))
	}
	return fmt.Sprintf("%T", m)
}

// floorRacer is a store on which a collection commits at the moment the
// session reads the log floor: what another process's `hamlet-server gc
// --truncate-log`, or this one's periodic job, may do at any instant.
type floorRacer struct {
	server.Store
	collect func() // once, inside the first LogFloor after it is set
}

func (s *floorRacer) LogFloor(ctx context.Context, scopes []string) (uint64, error) {
	floor, err := s.Store.LogFloor(ctx, scopes)
	if f := s.collect; f != nil {
		s.collect = nil
		f()
	}
	return floor, err
}

// A truncating collection that commits between a pull's floor check and
// its log read must not thin the page the pull answers: the replica would
// move its cursor past entries it never received and hold old values for
// ever. The pull is answered with every entry after its cursor, or refused
// as below the floor (the agent clones again); never with a gap.
func TestPullRacingCollectionNeverThinned(t *testing.T) {
	ctx := context.Background()
	lite, err := servertest.OpenStore(ctx, t.TempDir(), "NORMAL")
	require.NoError(t, err)
	st := &floorRacer{Store: lite}
	ts := servertest.Start(t, servertest.WithStore(st))
	writer, dev := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(writer.Replica, nil)
	hamlet := ts.HamletsA[0]
	cs := threeFields(w, hamlet)
	_, err = ts.Connect(t, writer).Push(1, cs)
	require.NoError(t, err)
	page, err := ts.Store.ReadLog(ctx, server.LogQuery{Scopes: []string{hamlet}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Entries, 3)
	second := page.Entries[1].Seq

	// The collection truncates the log up to the second entry.
	st.collect = func() {
		require.NoError(t, lite.Update(ctx, func(tx server.Tx) error {
			if err := tx.DeleteEntries([]uint64{second}); err != nil {
				return err
			}
			return tx.RaiseFloor(hamlet, second)
		}))
	}
	from := page.Entries[0].Seq
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: from}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	switch m := m.(type) {
	case *syncproto.ErrorMsg:
		var pe *syncproto.Error
		require.ErrorAs(t, m.Err(), &pe)
		require.Equal(t, syncproto.CodeBadCursor, pe.Code)
	case *syncproto.Changes:
		require.Len(t, m.Changes, 2, "the pull from %d answered %s: a page thinned by the collection that committed during it", from, describeMsg(m))
	default:
		t.Fatalf("unexpected answer %s", describeMsg(m))
	}
}

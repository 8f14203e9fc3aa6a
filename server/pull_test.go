package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore/sqlitetest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// pullRaw sends one Pull with Durable and returns its Changes.
func pullRaw(t *testing.T, c *servertest.Client, p *syncproto.Pull) *syncproto.Changes {
	t.Helper()
	require.NoError(t, c.Send(p))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	ch, ok := m.(*syncproto.Changes)
	require.True(t, ok, "want changes, got %s", m.Type())
	return ch
}

func deviceCursor(t *testing.T, ts *servertest.TS, r syncproto.ReplicaID) uint64 {
	t.Helper()
	devs, err := ts.Admin.ListDevices(context.Background())
	require.NoError(t, err)
	for _, d := range devs {
		if d.Replica == r {
			return d.Cursor
		}
	}
	t.Fatalf("no device for replica %s", r)
	return 0
}

// TestGCCursorIsDurableNotCursor: tombstone collection goes by the cursor a
// device has stored (Pull.Durable), never by the one it asks from
// (Pull.Cursor): a pipelining agent asks for the next page before storing
// the last, and would lose a tombstone it never stored if it crashed then.
func TestGCCursorIsDurableNotCursor(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	row := uuid.New()
	a.push(t, a.write("households", row, "hamlet_code", syncproto.String(ts.HamletsA[0]), ts.HamletsA[0]),
		a.write("households", row, "head_name", syncproto.String("Lê Văn H"), ts.HamletsA[0]),
		a.write("households", row, "_deleted", syncproto.Bool(true), ts.HamletsA[0]))
	b := newReplica(t, ts, ts.TeamA)
	first := pullRaw(t, b.c, &syncproto.Pull{Cursor: 0})
	head := first.To
	require.NotZero(t, head)

	// Asking from head without having stored anything records nothing.
	pullRaw(t, b.c, &syncproto.Pull{Cursor: head})
	require.Zero(t, deviceCursor(t, ts, b.dev.Replica), "Pull.Cursor is not an acknowledgement")
	// Durable is.
	pullRaw(t, b.c, &syncproto.Pull{Cursor: head, Durable: head - 1})
	require.Equal(t, head-1, deviceCursor(t, ts, b.dev.Replica))
	// Zero means unchanged.
	pullRaw(t, b.c, &syncproto.Pull{Cursor: head})
	require.Equal(t, head-1, deviceCursor(t, ts, b.dev.Replica))
	// A client cannot hold more than it asked for.
	pullRaw(t, b.c, &syncproto.Pull{Cursor: head, Durable: head + 100})
	require.Equal(t, head, deviceCursor(t, ts, b.dev.Replica))
}

// TestRePushedRefusalIsRefusedAgain: a change refused in a batch whose Ack
// was lost is pushed again by the client; the server answers it with the
// same refusal (not "duplicate"), on the same session or a new one, and
// stores nothing twice.
func TestRePushedRefusalIsRefusedAgain(t *testing.T) {
	ts := servertest.Start(t)
	r := newReplica(t, ts, ts.TeamA)
	row, cs := household(r, ts.HamletsA[0], "Trần Thị K")
	r.push(t, cs...)
	batch := []syncproto.Change{
		r.write("households", row, "notes", syncproto.String("hộ khó khăn"), ts.HamletsA[0]),
		r.write("households", uuid.New(), "hamlet_code", syncproto.String(ts.OtherHamletA), ts.OtherHamletA),
		r.write("households", row, "members_count", syncproto.Int(500), ts.HamletsA[0]),
	}
	first := r.push(t, batch...)
	require.Equal(t, syncproto.ResultApplied, first.Results[0].Status)
	require.Equal(t, syncproto.ResultRefused, first.Results[1].Status)
	require.Equal(t, syncproto.ResultRefused, first.Results[2].Status)

	check := func(ack *syncproto.Ack) {
		t.Helper()
		require.Equal(t, syncproto.ResultDuplicate, ack.Results[0].Status)
		for _, i := range []int{1, 2} {
			require.Equal(t, syncproto.ResultRefused, ack.Results[i].Status, "change %d", i)
			require.Equal(t, first.Results[i].Code, ack.Results[i].Code, "change %d", i)
			require.Equal(t, first.Results[i].Reason, ack.Results[i].Reason, "change %d", i)
			require.False(t, ack.Results[i].Why.IsZero(), "change %d: the reason is kept as data", i)
			require.Equal(t, first.Results[i].Why, ack.Results[i].Why, "change %d", i)
		}
	}
	check(r.push(t, batch...))
	// A new session, as after a reconnect, with a new change behind.
	c2 := ts.Connect(t, r.dev)
	require.Equal(t, batch[2].Dot.Seq, c2.Welcome.PushedSeq)
	next := r.write("households", row, "phone", syncproto.String("0912345678"), ts.HamletsA[0])
	ack, err := c2.Push(1, append(batch[:3:3], next))
	require.NoError(t, err)
	check(ack)
	require.Equal(t, syncproto.ResultApplied, ack.Results[3].Status)

	require.Equal(t, 2, sqlitetest.Refusals(t, ts.DataDir), "refusals are stored once")
}

// TestPullPagesFitDictionaryAndFrame: a page is cut where its change list
// would need more names than MaxDict or a frame above MaxFrame, and the
// pages together carry every change once, in log order.
func TestPullPagesFitDictionaryAndFrame(t *testing.T) {
	lim := syncproto.DefaultLimits
	lim.MaxDict = 8
	lim.MaxFrame = 32 << 10
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Limits = lim }))
	a := newReplica(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	var sent []syncproto.Change
	// Values must arrive in canonical form (trimmed NFC), or the server refuses them.
	long := strings.TrimSpace(strings.Repeat("Ghi chu dai ve ho gia dinh. ", 60)[:1500])
	for i := 0; i < 6; i++ { // households: 7 names, 10 notes of 1.5 KB a batch
		var cs []syncproto.Change
		for j := 0; j < 10; j++ {
			row := uuid.New()
			cs = append(cs, a.write("households", row, "hamlet_code", syncproto.String(h), h),
				a.write("households", row, "head_name", syncproto.String("Hộ "+uuid.NewString()[:6]), h),
				a.write("households", row, "address", syncproto.String("Ấp 1"), h),
				a.write("households", row, "phone", syncproto.String("0912345678"), h),
				a.write("households", row, "notes", syncproto.String(long), h))
		}
		for _, r := range a.push(t, cs...).Results {
			require.Equal(t, syncproto.ResultApplied, r.Status, "%+v", r)
		}
		sent = append(sent, cs...)
	}
	hh := sent[0].Row
	var cs []syncproto.Change // visits: 6 names, 4 new
	for j := 0; j < 20; j++ {
		row := uuid.New()
		cs = append(cs, a.write("visits", row, "hamlet_code", syncproto.String(h), h),
			a.write("visits", row, "household_id", syncproto.String(hh.String()), h),
			a.write("visits", row, "visited_on", syncproto.String("2025-08-01"), h),
			a.write("visits", row, "volunteer_id", syncproto.String(a.dev.Replica.String()), h))
	}
	for _, r := range a.push(t, cs...).Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, "%+v", r)
	}
	sent = append(sent, cs...)

	b := newReplica(t, ts, ts.TeamA)
	var got []syncproto.Change
	cursor, pages := uint64(0), 0
	for {
		ch := pullRaw(t, b.c, &syncproto.Pull{Cursor: cursor})
		require.Equal(t, cursor, ch.From)
		pages++
		frame, err := syncproto.Encode(nil, ch)
		require.NoError(t, err)
		require.LessOrEqual(t, len(frame), lim.MaxFrame, "page %d", pages)
		_, err = syncproto.Decode(frame, lim) // dictionaries within MaxDict
		require.NoError(t, err, "page %d", pages)
		got = append(got, ch.Changes...)
		cursor = ch.To
		if !ch.More {
			break
		}
	}
	require.Greater(t, pages, 3, "large values and two tables' names need several pages")
	require.Len(t, got, len(sent))
	for i := range sent {
		require.Equal(t, sent[i].Dot, got[i].Dot, "change %d in log order", i)
	}
}

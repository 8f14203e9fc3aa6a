package server_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore/sqlitetest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func TestHouseholdMoveArrivesInNewScopeAndLeavesOld(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	a2 := newReplica(t, ts, ts.TeamA)
	b := newReplica(t, ts, ts.TeamB)
	from, to := ts.HamletsA[0], ts.HamletsB[0]

	row, cs := household(a, from, "Huỳnh Văn H")
	visit := uuid.New()
	cs = append(cs,
		a.write("visits", visit, "hamlet_code", syncproto.String(from), from),
		a.write("visits", visit, "household_id", syncproto.String(row.String()), from),
		a.write("visits", visit, "volunteer_id", syncproto.String(uuid.NewString()), from),
		a.write("visits", visit, "visited_on", syncproto.String("2025-08-01"), from),
	)
	a.push(t, cs...)
	b.w.Saw(cs[0]) // the mover met it: see TestEditOfAMovedRowJudgedByTheLastSyncNotTheClock
	a2.pull(t)
	require.Len(t, values(a2), 8)

	// Team A's device may not move it out of team A's hamlets; team B's
	// device, the receiving team, may (issue 13 defect 2).
	ack := a.push(t, a.write("households", row, "hamlet_code", syncproto.String(to), from))
	require.Equal(t, syncproto.CodeOutOfScope, ack.Results[0].Code)
	ack = b.push(t, b.write("households", row, "hamlet_code", syncproto.String(to), from))
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)

	// The new scope receives the household and its visit, the visit's
	// hamlet rewritten by the server.
	got, ev := b.pull(t)
	require.Empty(t, ev)
	require.NotEmpty(t, got)
	vb := values(b)
	require.Equal(t, syncproto.String(to), vb[syncproto.FieldKey{Table: "households", Row: row, Field: "hamlet_code"}])
	require.Equal(t, syncproto.String("Huỳnh Văn H"), vb[syncproto.FieldKey{Table: "households", Row: row, Field: "head_name"}])
	require.Equal(t, syncproto.String(to), vb[syncproto.FieldKey{Table: "visits", Row: visit, Field: "hamlet_code"}])
	require.Equal(t, syncproto.String("2025-08-01"), vb[syncproto.FieldKey{Table: "visits", Row: visit, Field: "visited_on"}])
	require.Len(t, vb, 8)

	// The old scope is told to drop both rows.
	_, ev = a2.pull(t)
	require.ElementsMatch(t, []syncproto.Eviction{
		{Table: "households", Row: row, NewScope: to},
		{Table: "visits", Row: visit, NewScope: to},
	}, ev)
	require.Empty(t, values(a2))

	// The mover can no longer write the row (the refusal names the move); the new team can.
	ack = a.push(t, a.write("households", row, "notes", syncproto.String("sau khi chuyển"), from))
	require.Equal(t, syncproto.CodeMovedOutOfScope, ack.Results[0].Code)
	ack = b.push(t, b.write("households", row, "notes", syncproto.String("đã nhận"), to))
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)

	// The materialised tables follow.
	require.Equal(t, to, sqlitetest.Column(t, ts.DataDir, "visits", visit.String(), "hamlet_code"))
	require.Equal(t, to, sqlitetest.Column(t, ts.DataDir, "households", row.String(), "hamlet_code"))
}

// Issue 16: the scope verdict dated a change by its HLC, so a laptop whose
// clock runs behind had an edit made after a move accepted as made before
// it. The server dates it no earlier than the start of the device's last
// session that pushed everything it held and pulled: a device that synced
// after the move cannot have made it before.
func TestEditOfAMovedRowJudgedByTheLastSyncNotTheClock(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	late := newReplica(t, ts, ts.TeamA)  // syncs after the move, its clock a day behind
	early := newReplica(t, ts, ts.TeamA) // in a session since before the move
	b := newReplica(t, ts, ts.TeamB)
	from, to := ts.HamletsA[0], ts.HamletsB[0]
	row, cs := household(a, from, "Huỳnh Văn K")
	a.push(t, cs...)
	// The mover met the household before moving it: its move is written
	// over a's hamlet, not a write concurrent with it, which lost the tie
	// when both clocks read the same millisecond (4 runs in 100).
	b.w.Saw(cs[0])
	late.pull(t)
	early.pull(t)

	ack := b.push(t, b.write("households", row, "hamlet_code", syncproto.String(to), from))
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	late.c.Close()
	late.c = ts.Connect(t, late.dev) // a session that began after the move
	_, ev := late.pull(t)            // pushed nothing, pulled: the laptop learns of the move...
	require.Len(t, ev, 1)
	late.c.Close()

	// ...and, offline, edits the household it still shows, its clock a day
	// behind: the edit's HLC is before the move.
	dayAgo := syncproto.MakeHLC(time.Now().Add(-24*time.Hour).UnixMilli(), 0)
	edit := func(r *replica, note string) *syncproto.Ack {
		c := r.write("households", row, "notes", syncproto.String(note), from)
		c.HLC = dayAgo
		return r.push(t, c)
	}
	late.c = ts.Connect(t, late.dev)
	ack = edit(late, "sau khi chuyển")
	require.Equal(t, syncproto.ResultRefused, ack.Results[0].Status, "a change pushed by a device that synced after the move was made after it")
	require.Equal(t, syncproto.CodeMovedOutOfScope, ack.Results[0].Code)

	// A device whose last complete sync was before the move may have made
	// it before: its HLC says so, and nothing the server knows contradicts
	// it. A session that broke before it pulled (a 3G link) does not count:
	// the device may not have pushed what it held.
	early.c.Close()
	early.c = ts.Connect(t, early.dev)
	early.c.Close()
	early.c = ts.Connect(t, early.dev)
	ack = edit(early, "trước khi chuyển")
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, "%+v", ack.Results[0])
}

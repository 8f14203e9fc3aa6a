package server_test

import (
	"testing"

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

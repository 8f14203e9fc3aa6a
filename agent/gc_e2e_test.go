package agent_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// holds counts what a replica keeps of a row: row_state, the households
// projection and the tombstone bound.
func holds(t *testing.T, r *agent.Replica, id syncproto.RowID) (state, data, tomb int) {
	t.Helper()
	db := r.DB()
	for q, n := range map[string]*int{
		`SELECT COUNT(*) FROM row_state WHERE id = ?`:  &state,
		`SELECT COUNT(*) FROM households WHERE id = ?`: &data,
		`SELECT COUNT(*) FROM tombs WHERE id = ?`:      &tomb,
	} {
		require.NoError(t, db.QueryRow(q, id.String()).Scan(n))
	}
	return state, data, tomb
}

// serverHolds counts the server's sync_rows, log entries and data of a row.
func serverHolds(t *testing.T, ts *servertest.TS, id syncproto.RowID) (rows, entries, data int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir, sqlitestore.DBFile)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sync_rows WHERE row = ?`, id[:]).Scan(&rows))
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sync_log WHERE row = ?`, id[:]).Scan(&entries))
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM households WHERE id = ?`, id.String()).Scan(&data))
	return rows, entries, data
}

// TestTombstoneGoneEverywhere is part 5's first acceptance test: a
// household deleted on one agent is kept (deleted) by every replica and the
// server while a device covering its hamlet has not durably pulled the
// delete; once all have, server GC drops it and the horizon the server
// sends makes every agent drop it too, the deleting one included (it never
// pulls its own tombstone).
func TestTombstoneGoneEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hamlet := ts.HamletsA[0]

	gone, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan"})
	require.NoError(t, err)
	kept, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Phạm Văn Dũng"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, b, ts, tb) // tells the server B stored it (Pull.Durable)
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)

	require.NoError(t, a.Delete(ctx, "households", gone))
	realSync(t, a, ts, ta)
	// B has not pulled the delete: nobody may drop it, whatever runs. The
	// horizon A is told is B's cursor, before the delete.
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	sa := realSync(t, a, ts, ta)
	require.Zero(t, sa.Collected)
	st, data, tomb := holds(t, a, gone)
	require.Equal(t, [3]int{1, 1, 1}, [3]int{st, data, tomb}, "A dropped a tombstone B has not pulled")
	r, _, _ := serverHolds(t, ts, gone)
	require.Equal(t, 1, r, "the server dropped a tombstone B has not pulled")

	// B pulls it, then tells the server it stored it (the next pull's
	// Durable). Still kept until the server has recorded both.
	realSync(t, b, ts, tb)
	st, _, tomb = holds(t, b, gone)
	require.Equal(t, [2]int{1, 1}, [2]int{st, tomb}, "B holds the tombstone and its bound")
	realSync(t, b, ts, tb)

	gc, err := ts.Server.GC(ctx) // flushes device activity first
	require.NoError(t, err)
	require.Equal(t, 1, gc.Rows)
	r, e, d := serverHolds(t, ts, gone)
	require.Equal(t, [3]int{0, 0, 0}, [3]int{r, e, d}, "the server still holds the row")

	// Each agent's next sync carries a horizon past the tombstone.
	sa = realSync(t, a, ts, ta)
	sb := realSync(t, b, ts, tb)
	require.Equal(t, 1, sa.Collected)
	require.Equal(t, 1, sb.Collected)
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b} {
		st, data, tomb := holds(t, rep, gone)
		require.Equal(t, [3]int{0, 0, 0}, [3]int{st, data, tomb}, "replica %s still holds the deleted row", name)
		_, err := rep.Show(ctx, "households", gone.String())
		require.ErrorIs(t, err, agent.ErrNotFound, name)
		d, err := rep.Show(ctx, "households", kept.String())
		require.NoError(t, err, name)
		require.Equal(t, "Phạm Văn Dũng", d.Fields["head_name"], name)
		require.NoError(t, rep.Check(ctx), name)
	}
	// Both still equal the server (a fresh clone).
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	for name, rep := range map[string]*agent.Replica{"a": a, "b": b} {
		got, err := rep.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
	}
}

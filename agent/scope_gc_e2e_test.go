package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 9's review findings on collection racing scope changes (issue 17
// item 5), through a real server on loopback and real agents. Each gained
// hamlet is back-filled by a scoped snapshot, which reads no old log.

// liveHousehold reports whether r holds the household live.
func liveHousehold(t *testing.T, r *agent.Replica, id syncproto.RowID) bool {
	t.Helper()
	var n int
	require.NoError(t, r.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM households WHERE id = ? AND _deleted = 0`, id.String()).Scan(&n))
	return n > 0
}

// A household moved from hamlet G to H, deleted there and collected, must
// not come back live on a laptop whose team covers H and then gains G: a
// back-fill of G from its log read the entries the row left in G, and
// skipped its eviction (moved within the laptop's scope), while the
// entries in H had gone with the collected tombstone.
func TestScopeGainBringsNoCollectedMovedRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	moved, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Hộ chuyển đi", "notes": "ở ấp 3"})
	require.NoError(t, err)
	stays, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Hộ ở lại"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, moved, agent.Fields{"hamlet_code": h}))
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	require.True(t, liveHousehold(t, a, moved), "the moved household reached team A's hamlet")
	require.NoError(t, a.Delete(ctx, "households", moved))
	for range 2 { // the second sync tells the server each cursor is past the delete
		realSync(t, a, ts, ta)
		realSync(t, c, ts, tc)
	}
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows, "the deleted household is collected")
	realSync(t, a, ts, ta) // the horizon passed the tombstone: the laptop drops it too
	require.False(t, holdsRow(t, a, moved), "the laptop still holds the collected household's tombstone")

	// A replica too old to clone, new in a team covering both hamlets,
	// replays the log from 0: none of the collected row's entries is
	// left there, in G either.
	dev := ts.NewDevice(t, teamC.ID)
	raw := ts.Connect(t, dev)
	chs, _, _, err := raw.PullAll(0)
	require.NoError(t, err)
	for _, ch := range chs {
		require.NotEqual(t, moved, ch.Row, "an entry of the collected household in %s: %s", ch.Scope, ch.Field)
	}
	raw.Close()
	require.NoError(t, ts.Admin.RevokeDevice(ctx, deviceOf(t, ts, dev)))

	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, g)
	require.NoError(t, err)
	sum := realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{g}, sum.ScopeChange.Gained)
	require.False(t, liveHousehold(t, a, moved), "the collected household came back live with the gained hamlet")
	require.True(t, liveHousehold(t, a, stays), "the gained hamlet's household arrived")
}

// holdsRow reports whether r holds the row at all (live or deleted).
func holdsRow(t *testing.T, r *agent.Replica, id syncproto.RowID) bool {
	t.Helper()
	var n int
	require.NoError(t, r.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM row_state WHERE id = ?`, id.String()).Scan(&n))
	return n > 0
}

// deviceOf finds the server's id of a servertest device.
func deviceOf(t *testing.T, ts *servertest.TS, d servertest.Device) string {
	t.Helper()
	devs, err := ts.Admin.ListDevices(context.Background())
	require.NoError(t, err)
	for _, dv := range devs {
		if dv.Replica == d.Replica {
			return dv.ID
		}
	}
	t.Fatalf("no device of replica %s", d.Replica)
	return ""
}

// A back-fill cut after storing a household must not miss its delete when
// collection runs before it resumes: the household was deleted before the
// team gained its hamlet and the laptop's own cursor is past the delete,
// so collection (counting that cursor) took the tombstone and its entries
// while the back-fill's position was below them.
func TestScopeBackfillCutMissesNoCollectedDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	var ids []syncproto.RowID
	for _, name := range []string{"Hộ đã xóa", "Hộ 2", "Hộ 3", "Hộ 4", "Hộ 5", "Hộ 6"} {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": name})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	realSync(t, c, ts, tc)
	gone := ids[0]
	require.NoError(t, c.Delete(ctx, "households", gone))
	for range 2 {
		realSync(t, c, ts, tc)
		realSync(t, a, ts, ta)
	}

	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, g)
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, PullLimit: 3, SnapshotLimit: 1, Progress: func(p agent.Progress) {
		if p.Phase == "backfill" {
			cancel() // cut after the first stored page or chunk
		}
	}}
	_, err = a.Sync(cctx, ts.URL, ta, opts)
	require.Error(t, err)
	_, backfilling, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{g}, backfilling, "the back-fill was cut")

	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows, "the deleted household is collected meanwhile")

	opts.Progress = nil
	for range 3 { // a refused resume ends a session; the next one clones
		if _, err = a.Sync(ctx, ts.URL, ta, opts); err == nil {
			break
		}
	}
	require.NoError(t, err)
	_, backfilling, err = a.HeldScope(ctx)
	require.NoError(t, err)
	require.Empty(t, backfilling)
	require.False(t, liveHousehold(t, a, gone), "the household deleted and collected is live after the back-fill")
	for _, id := range ids[1:] {
		require.True(t, liveHousehold(t, a, id), "household %s of the gained hamlet", id)
	}
}

// `hamlet-server gc --truncate-log` run from the CLI while serve runs
// without it truncates the gained hamlet's log all the same: a back-fill
// must not read that log as if it were whole (the floors are stored; no
// process's flags say whether the log was cut).
func TestScopeGainAfterCLITruncation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t) // serve without --truncate-log
	g := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	var ids []syncproto.RowID
	for _, name := range []string{"Hộ 1", "Hộ 2", "Hộ 3"} {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": name})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	realSync(t, c, ts, tc)
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)

	// serve's own collection (it writes the cursors it holds), then the
	// operator's CLI: another process on the same store, its own flags.
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	cli, err := servertest.Open(ctx, ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1, TruncateLog: true})
	require.NoError(t, err)
	st, err := cli.Admin().GC(ctx)
	require.NoError(t, err)
	require.NoError(t, cli.Close())
	require.Positive(t, st.Truncated, "the CLI truncated the hamlet's log")

	// A log back-fill of the hamlet (Pull.Scopes, as agents before the
	// scoped snapshot send it) is refused: the log no longer holds its rows.
	dev := ts.NewDevice(t, ts.TeamA)
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, g)
	require.NoError(t, err)
	raw := ts.Connect(t, dev)
	require.NoError(t, raw.Send(&syncproto.Pull{Cursor: 0, Scopes: []string{g}}))
	_, err = raw.RecvAnswer()
	require.Error(t, err, "a back-fill of a truncated log was answered")
	require.Equal(t, syncproto.CodeBadCursor, syncproto.CodeOf(err))
	raw.Close()
	require.NoError(t, ts.Admin.RevokeDevice(ctx, deviceOf(t, ts, dev)))

	for range 3 {
		if _, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second}); err == nil {
			break
		}
	}
	require.NoError(t, err)
	for _, id := range ids {
		require.True(t, liveHousehold(t, a, id), "household %s of the gained hamlet", id)
	}
}

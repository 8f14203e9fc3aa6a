package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCloneResumedAfterLogTruncated: a laptop whose first clone stopped
// half-way (the volunteer closed it) stays away past the silence horizon;
// meanwhile a team-mate edits and deletes rows the half clone already
// stored, and the server truncates the log above the clone's head. The
// laptop returns: its clone cannot resume from that head (the pull after
// it would start below the log floor), so it starts again, and the laptop
// ends as a fresh clone of the server, with no conflict where nothing
// competed and without the deleted row (issue 17, simulation seed 8291 in
// the silent world: the resumed clone pulled from below the floor, took
// the refusal for a server restored from a backup, replayed the truncated
// log from 0 over what it held and was refused again).
func TestCloneResumedAfterLogTruncated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t, func(c *server.Config) { c.TruncateLog = true })
	a, ta := enroll()
	var ids []uuid.UUID
	for i := 0; i < 120; i++ {
		hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "phone": "0900000000"})
		require.NoError(t, err)
		ids = append(ids, hh)
	}
	realSync(t, a, ts, ta)

	// L's first clone stops after its first chunks.
	l, tl := enroll()
	cctx, stop := context.WithCancel(ctx)
	_, err := l.Sync(cctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 10,
		Progress: func(p agent.Progress) {
			if p.Phase == "clone" && p.Done >= 30 {
				stop()
			}
		}})
	stop()
	require.Error(t, err, "the clone was stopped half-way")
	held, err := l.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, held, "the half clone stored rows")
	require.Less(t, len(held), len(ids))
	first, err := uuid.Parse(held[0].ID)
	require.NoError(t, err)
	second, err := uuid.Parse(held[1].ID)
	require.NoError(t, err)

	// A corrects a household L holds, three times, and deletes another;
	// L stays away past the horizon while A keeps in touch, and the
	// server collects and truncates.
	for _, ph := range []string{"0911111111", "0922222222", "0933333333"} {
		require.NoError(t, a.EditHousehold(ctx, first, agent.Fields{"phone": ph}))
		realSync(t, a, ts, ta)
	}
	require.NoError(t, a.Delete(ctx, "households", second))
	realSync(t, a, ts, ta)
	clk.advance(190 * 24 * time.Hour)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta) // the server hears A stored all of it
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Truncated, "the log was truncated above the half clone's head")

	sum, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 10})
	require.NoError(t, err, "the returning laptop's sync")
	require.Positive(t, sum.Cloned)
	cf, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the returning laptop's conflict log holds a conflict where nothing competed: %s %s.%s: %v lost to %v",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Winner.Value)
	}
	got, err := l.Show(ctx, "households", first.String())
	require.NoError(t, err)
	require.Equal(t, "0933333333", got.Fields["phone"], "the returning laptop holds the last correction")

	fresh, tf := enroll()
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	have, err := l.Snapshot(ctx)
	require.NoError(t, err)
	want, have = withoutTombstoned(want), withoutTombstoned(have)
	require.Equal(t, want, have, "the returning laptop equals a fresh clone\n%s", diffSnap(want, have))
}

// TestBackfillBelowFloorReclones: a laptop whose stored cursor is behind
// the one the server heard it acknowledge (a power cut took its last
// pulled pages, which commit without a full flush) is not told to
// re-clone. Its team gains a hamlet whose log was collected above that
// cursor: the back-fill's snapshot, read at the cursor, is refused below
// the floor, and the laptop clones again in the same sync instead of
// failing every sync (review of issue 17's floor check on resumed clones).
func TestBackfillBelowFloorReclones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ A"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	var low int64
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT value FROM agent_meta WHERE key = 'cursor'`).Scan(&low))
	var ids []uuid.UUID
	for _, name := range []string{"Hộ 1", "Hộ 2", "Hộ 3"} {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": name})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	realSync(t, c, ts, tc)
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta) // the server heard A store the head
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	_, err = a.DB().ExecContext(ctx, `UPDATE agent_meta SET value = ? WHERE key = 'cursor'`, low)
	require.NoError(t, err)
	setFloor(t, ts, head, g) // G's log collected up to the head
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, g)
	require.NoError(t, err)

	sum := realSync(t, a, ts, ta)
	require.Positive(t, sum.Cloned, "cloned again")
	for _, id := range ids {
		require.True(t, liveHousehold(t, a, id), "household %s of the gained hamlet", id)
	}
}

// TestSnapshotMarkerDoesNotBlockReclone: a laptop that once met a server
// of a release without snapshot clones keeps a marker that makes it replay
// the log. After the server's upgrade, collection passes its cursor: the
// server asks for a re-clone, and the marker must not stop it (every sync
// failed the same way).
func TestSnapshotMarkerDoesNotBlockReclone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ A"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	_, err = a.DB().ExecContext(ctx, `INSERT INTO agent_meta (key, value) VALUES ('snapshot_unsupported', 1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
	require.NoError(t, err)
	hb, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...) // collection passed A's cursor

	sum := realSync(t, a, ts, ta)
	require.Positive(t, sum.Cloned, "cloned again, by snapshot")
	require.True(t, liveHousehold(t, a, hb), "B's household")
}

// TestServerBehindCursorPullsFromStart: a server restored from a backup
// holds a log that ends below a laptop's cursor; the laptop's pull from
// its cursor is refused, and it pulled again from the start (the refusal
// below a log floor, the other bad_cursor, clones again instead). It now
// clones again: what it pulled past the restored log's end may hold
// versions the restored server lost, later than what its log holds, which
// a replay never took back (TestRestoredServerLostCoordinatorsDispatch).
func TestServerBehindCursorPullsFromStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hb, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	// As if the server lost its last changes: the laptop's cursor is
	// beyond its log.
	_, err = a.DB().ExecContext(ctx, `UPDATE agent_meta SET value = ? WHERE key = 'cursor'`, int64(head)+1000)
	require.NoError(t, err)
	hb2, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ B hai"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)

	sum := realSync(t, a, ts, ta)
	require.Positive(t, sum.Cloned, "a re-clone, not a replay onto the rows it holds")
	for _, id := range []uuid.UUID{hb, hb2} {
		require.True(t, liveHousehold(t, a, id), "household %s", id)
	}
	var cur int64
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT value FROM agent_meta WHERE key = 'cursor'`).Scan(&cur))
	now, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	require.EqualValues(t, now, cur, "the cursor is the server's head again")
}

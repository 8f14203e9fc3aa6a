package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestServerRestoredFromBackupGetsTheAcknowledgedChangesBack: agents A and B synced; a backup is
// taken while the server serves; A adds and edits, B edits and deletes, all
// acknowledged; the server is restored from the backup (the documented
// procedure: the file becomes hamlet.db in a data folder). Nothing A or B
// had acknowledged may be lost, nothing B deleted may come back, and both
// replicas converge with the server.
func TestServerRestoredFromBackupGetsTheAcknowledgedChangesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	h0 := ts.HamletsA[0]

	edited, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ sửa"})
	require.NoError(t, err)
	doomed, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ bị xoá"})
	require.NoError(t, err)
	kept, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ giữ"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	// Backup while serving, as `hamlet-server backup` does.
	restore := backupNow(t, ts)

	// After the backup: A adds and edits, B edits and deletes.
	added, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ mới sau sao lưu"})
	require.NoError(t, err)
	require.NoError(t, a.EditHousehold(ctx, edited, agent.Fields{"phone": "0911111111"}))
	require.NoError(t, a.EditHousehold(ctx, kept, agent.Fields{"members_count": int64(4)}))
	sa := realSync(t, a, ts, ta)
	require.Positive(t, sa.Pushed)
	require.NoError(t, b.EditHousehold(ctx, kept, agent.Fields{"notes": "ghi chú B"}))
	require.NoError(t, b.Delete(ctx, "households", doomed))
	realSync(t, b, ts, tb)
	for _, r := range []*agent.Replica{a, b} {
		n, err := r.Pending(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "acknowledged")
	}

	// Restore: stop the server, the backup file becomes hamlet.db.
	ts2 := restore()

	var errs []string
	// B first: its changes sent again land in the server's log below A's
	// cursor of before the restore.
	resent := map[string]int{}
	for i := 0; i < 3; i++ {
		for _, p := range []struct {
			name string
			r    *agent.Replica
			tok  string
		}{{"b", b, tb}, {"a", a, ta}} {
			sum, err := p.r.Sync(ctx, ts2.URL, p.tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
			t.Logf("round %d %s: pushed %d, sent again %d, pulled %d, cloned %d", i, p.name, sum.Pushed, sum.Resent, sum.Pulled, sum.Cloned)
			resent[p.name] += sum.Resent
			if err != nil {
				errs = append(errs, p.name+": "+err.Error())
			}
		}
	}
	require.Empty(t, errs, "the syncs after the restore")
	require.Equal(t, map[string]int{"a": 6, "b": 2}, resent, "each laptop says what the server had lost and it sent again")

	c, tc := realAgent(t, ts2, ts2.TeamA)
	realSync(t, c, ts2, tc)
	show := func(r *agent.Replica, id syncproto.RowID) *agent.Detail {
		d, err := r.Show(ctx, "households", id.String())
		if err != nil {
			return nil
		}
		return d
	}
	var bad []string
	check := func(ok bool, msg string) {
		if !ok {
			bad = append(bad, msg)
		}
	}
	for _, nr := range []struct {
		name string
		r    *agent.Replica
	}{{"server", c}, {"a", a}, {"b", b}} {
		name, r := nr.name, nr.r
		d := show(r, added)
		check(d != nil, name+": A's household added after the backup (acknowledged) is missing")
		d = show(r, edited)
		check(d != nil && d.Fields["phone"] == "0911111111", name+": A's acknowledged phone edit is missing")
		d = show(r, kept)
		check(d != nil && d.Fields["members_count"] == int64(4), name+": A's acknowledged members_count edit of B's row is missing")
		check(d != nil && d.Fields["notes"] == "ghi chú B", name+": B's acknowledged notes edit is missing")
		d = show(r, doomed)
		check(d == nil || d.Deleted, name+": the household B deleted after the backup is live again")
	}
	require.Empty(t, bad)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	for name, r := range map[string]*agent.Replica{"a": a, "b": b} {
		got, err := r.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
	}
}

// backupNow takes a backup of ts's store while it serves (as `hamlet-server
// backup` does, from a second store on the data folder); the function it
// returns stops ts and starts a server on that backup, restored as
// README's operating table says (the file becomes hamlet.db, its photos
// folder blobs/ beside it).
func backupNow(t *testing.T, ts *servertest.TS) (restore func() *servertest.TS) {
	t.Helper()
	ctx := context.Background()
	bak := filepath.Join(t.TempDir(), "bak.db")
	st, err := servertest.OpenStore(ctx, ts.DataDir, "NORMAL")
	require.NoError(t, err)
	require.NoError(t, st.Backup(ctx, bak))
	require.NoError(t, st.Close())
	return func() *servertest.TS {
		ts.Close()
		dir := t.TempDir()
		copyFile(t, bak, filepath.Join(dir, sqlitestore.DBFile))
		if _, err := os.Stat(sqlitestore.BackupBlobsDir(bak)); err == nil {
			require.NoError(t, os.Rename(sqlitestore.BackupBlobsDir(bak), filepath.Join(dir, "blobs")))
		}
		return servertest.Start(t, servertest.WithDataDir(dir), servertest.WithSynchronous("NORMAL"))
	}
}

// TestRestoredLogTheLastLaptopToSyncReplaysIt: A, B and C synced; a backup;
// A adds households (acknowledged) and C pulls them, its cursor past the
// backup's head; the server is restored. B adds a household, then A sends
// again what the server lost (under a new replica id): the restored log's
// head passes C's cursor, B's household at numbers C had pulled before.
// C, syncing last, could not tell from the numbers: it pulled from its
// cursor and missed B's household for good (README told the operator to
// enrol it again). The restored copy takes a new log epoch
// (Welcome.LogEpoch), and C replays the log.
func TestRestoredLogTheLastLaptopToSyncReplaysIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, ts.TeamA)
	h0 := ts.HamletsA[0]
	_, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ trước sao lưu"})
	require.NoError(t, err)
	for _, p := range []struct {
		r   *agent.Replica
		tok string
	}{{a, ta}, {b, tb}, {c, tc}} {
		realSync(t, p.r, ts, p.tok)
	}
	restore := backupNow(t, ts)
	var added []syncproto.RowID
	for i := range 3 {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": fmt.Sprintf("Hộ %d sau sao lưu", i+1)})
		require.NoError(t, err)
		added = append(added, id)
	}
	realSync(t, a, ts, ta)
	realSync(t, c, ts, tc) // C's cursor is past the backup's head now

	ts2 := restore()
	late, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ sau khôi phục"})
	require.NoError(t, err)
	realSync(t, b, ts2, tb) // B's household takes numbers C pulled before the restore
	sa := realSync(t, a, ts2, ta)
	require.Positive(t, sa.Resent, "A sends again what the server lost")
	realSync(t, c, ts2, tc)
	for _, id := range append(added, late) {
		d, err := c.Show(ctx, "households", id.String())
		require.NoError(t, err, "C, the last to sync after the restore, lacks household %s", id)
		require.False(t, d.Deleted)
	}
	realSync(t, a, ts2, ta)
	realSync(t, b, ts2, tb)
	// Values, not versions: C holds A's households under A's first replica
	// id, the others under the id A sent them again with, at one stamp; the
	// tie between the two copies of one value is broken by the ids (the
	// open case of equal values resent, docs/PROTOCOL.md §7.1).
	values := func(r *agent.Replica) map[syncproto.FieldKey]syncproto.Value {
		snap, err := r.Snapshot(ctx)
		require.NoError(t, err)
		out := map[syncproto.FieldKey]syncproto.Value{}
		for k, v := range snap {
			out[k] = v.Value
		}
		return out
	}
	want := values(c)
	for name, r := range map[string]*agent.Replica{"a": a, "b": b} {
		require.Equal(t, want, values(r), "replica %s holds C's values", name)
	}
}

// TestRestoredLogACloneCutBeforeStartsAgain: a laptop's first clone is cut
// half-way; the server is restored; a teammate corrects a household the
// laptop holds, its entry taking a number below the cut clone's head in the
// restored log. The clone resumed from the old log's head under the new
// epoch and pulled from it after: the correction never came (helper 136's
// review of bd6cd25). A clone or back-fill under way starts again.
func TestRestoredLogACloneCutBeforeStartsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	l, tl := realAgent(t, ts, ts.TeamA) // enrolled before the backup, never synced
	for i := 0; i < 120; i++ {
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "phone": "0900000000"})
		require.NoError(t, err)
	}
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	restore := backupNow(t, ts)
	for i := 0; i < 5; i++ { // acknowledged, lost by the restore
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ sau sao lưu " + itoa(i)})
		require.NoError(t, err)
	}
	realSync(t, a, ts, ta)

	// L's first clone stops after its first chunks (head: past the backup's).
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
	require.NotEmpty(t, held)
	var first uuid.UUID
	for _, h := range held { // one that survives the restore
		id, err := uuid.Parse(h.ID)
		require.NoError(t, err)
		if _, err := b.Show(ctx, "households", h.ID); err == nil {
			first = id
			break
		}
	}
	require.NotEqual(t, uuid.Nil, first)

	ts2 := restore()
	require.NotZero(t, ts2.Server.LogEpoch())
	// B corrects a household L holds: its entry takes a number below L's
	// clone head in the restored log; A sends again what was lost.
	require.NoError(t, b.EditHousehold(ctx, first, agent.Fields{"phone": "0988888888"}))
	realSync(t, b, ts2, tb)
	sa := realSync(t, a, ts2, ta)
	require.Positive(t, sa.Resent)

	realSync(t, l, ts2, tl)
	realSync(t, l, ts2, tl) // and again: nothing brings it
	got, err := l.Show(ctx, "households", first.String())
	require.NoError(t, err)
	require.Equal(t, "0988888888", got.Fields["phone"], "L holds B's correction made after the restore")
}

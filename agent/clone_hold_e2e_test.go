package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestFirstCloneCutKeepsOwnRowsThenDropsWhatItDidNotBring: a volunteer
// records households before her first sync, and a tutoring record for one
// she then moves to the team's other hamlet, which the team loses before
// she syncs. The server takes her push and moves the record with its
// household, out of her scope. Her first clone is cut after its first
// chunk and the agent stops (a crash between chunks): she still holds
// every household she recorded in her hamlet, and the record. The next
// session resumes the clone, and its end drops exactly what the snapshot
// did not bring: the record; the laptop then equals a fresh clone of the
// server.
func TestFirstCloneCutKeepsOwnRowsThenDropsWhatItDidNotBring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm) // the server's log is not empty: a first sync clones

	path := filepath.Join(t.TempDir(), "replica.db")
	l, err := agent.Open(ctx, path)
	require.NoError(t, err)
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	var mine []syncproto.RowID
	for _, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba", "Đỗ Văn Bốn", "Vũ Thị Năm"} {
		id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name})
		require.NoError(t, err)
		mine = append(mine, id)
	}
	moved, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lê Văn Sáu"})
	require.NoError(t, err)
	tut, err := l.AddTutoring(ctx, moved, agent.Fields{"skill": "vneid_install", "outcome": "needs_help", "person_name": "Lê Văn Sáu"})
	require.NoError(t, err)
	require.NoError(t, l.EditHousehold(ctx, moved, agent.Fields{"hamlet_code": other}))
	serverPast(t, ts, l) // the move is made before the team loses the hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = l.Sync(cctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Progress: func(p agent.Progress) {
		if p.Phase == "clone" && p.Done > 0 {
			cancel()
		}
	}})
	require.Error(t, err)
	require.NoError(t, l.Close())
	servertest.WaitSessions(t, ts, 0)

	l = agenttest.Open(t, path)
	var head int64
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM agent_meta WHERE key = 'clone_head'), 0)`).Scan(&head))
	require.NotZero(t, head, "the clone was cut between chunks")
	for _, id := range mine {
		require.True(t, holdsRow(t, l, id), "household %s, recorded and sent, is still on the laptop mid-clone", id)
	}
	require.True(t, holdsRow(t, l, tut), "the record stays until the snapshot has been stored whole")

	realSync(t, l, ts, tl)
	for _, id := range mine {
		require.True(t, holdsRow(t, l, id))
	}
	require.False(t, holdsRow(t, l, tut), "the laptop holds the record the server moved out of its scope")
	var listed int
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM clone_drop`).Scan(&listed))
	require.Zero(t, listed)

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}

// TestRecloneCutKeepsRows: a laptop told to clone again (the server's log
// was truncated past its cursor) whose re-clone is cut after its first
// chunk still shows every household it held; the next session finishes
// the re-clone and the laptop equals a fresh clone of the server.
func TestRecloneCutKeepsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta, _ := fillCommune(t, ts, 30)
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	_, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ của B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	live := func() int {
		var n int
		require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM households WHERE NOT _deleted`).Scan(&n))
		return n
	}
	before := live()
	require.Equal(t, 30, before) // 30 written, one deleted, one from b
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)

	syncCutInClone(t, a, ts, ta, 2)
	require.Equal(t, before, live(), "the households stay on the laptop while it clones again")

	s := realSync(t, a, ts, ta)
	require.Positive(t, s.Cloned)
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, diffSnap(want, got))
}

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

// cutFirstClone enrolls a laptop at path, lets write record what it
// writes before the first sync, then runs that sync and cuts its clone
// after the first chunk; it returns the reopened laptop and its token.
func cutFirstClone(t *testing.T, ts *servertest.TS, write func(l *agent.Replica)) (*agent.Replica, string, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	l, err := agent.Open(ctx, path)
	require.NoError(t, err)
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	write(l)
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
	return l, tl, path
}

// TestCutCloneOfflineWorkReachesServer: after a first sync whose clone was
// cut, the volunteer keeps working offline on the households she had
// recorded: edits one, adds a visit and a tutoring record to others,
// deletes one, moves one to the team's other hamlet, and edits a
// teammate's household. The next sync finishes the clone: every write of
// hers is on the server, nothing is refused or in conflict, and the laptop
// equals a fresh clone of the server.
func TestCutCloneOfflineWorkReachesServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	mate, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)

	var hh []syncproto.RowID
	l, tl, _ := cutFirstClone(t, ts, func(l *agent.Replica) {
		for _, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba", "Đỗ Văn Bốn", "Vũ Thị Năm", "Lê Văn Sáu"} {
			id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name, "phone": "0900000000"})
			require.NoError(t, err)
			hh = append(hh, id)
		}
	})

	// Offline, mid-clone.
	require.NoError(t, l.EditHousehold(ctx, hh[0], agent.Fields{"head_name": "Lý Thị Thu Hà", "phone": "0911111111"}))
	visit, err := l.AddVisit(ctx, hh[1], agent.Fields{"visited_on": l.Today(), "notes": "hỗ trợ VNeID"})
	require.NoError(t, err)
	tut, err := l.AddTutoring(ctx, hh[2], agent.Fields{"skill": "vneid_install", "outcome": "independent", "person_name": "Ngô Thị Ba"})
	require.NoError(t, err)
	require.NoError(t, l.Delete(ctx, "households", hh[3]))
	require.NoError(t, l.EditHousehold(ctx, hh[4], agent.Fields{"hamlet_code": other}))
	mateHeld := holdsRow(t, l, mate)
	if mateHeld {
		require.NoError(t, l.EditHousehold(ctx, mate, agent.Fields{"phone": "0922222222"}))
	}
	require.NoError(t, l.EditHousehold(ctx, hh[5], agent.Fields{"phone": "0933333333"}))
	require.NoError(t, l.EditHousehold(ctx, hh[5], agent.Fields{"phone": "0944444444"}))

	realSync(t, l, ts, tl)
	var listed int
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM clone_drop`).Scan(&listed))
	require.Zero(t, listed)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)
	cf, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf)

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	val := func(r *agent.Replica, table string, id syncproto.RowID, field string) any {
		d, err := r.Show(ctx, table, id.String())
		require.NoError(t, err, "%s %s", table, id)
		return d.Fields[field]
	}
	require.Equal(t, "Lý Thị Thu Hà", val(fresh, "households", hh[0], "head_name"))
	require.Equal(t, "0911111111", val(fresh, "households", hh[0], "phone"))
	require.Equal(t, "0944444444", val(fresh, "households", hh[5], "phone"))
	if mateHeld {
		require.Equal(t, "0922222222", val(fresh, "households", mate, "phone"))
	}
	require.Equal(t, other, val(fresh, "households", hh[4], "hamlet_code"))
	require.True(t, liveRow(t, fresh, "visits", visit))
	require.True(t, liveRow(t, fresh, "tutoring_records", tut))
	require.False(t, liveHousehold(t, fresh, hh[3]))
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}

func liveRow(t *testing.T, r *agent.Replica, table string, id syncproto.RowID) bool {
	t.Helper()
	var n int
	require.NoError(t, r.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM `+table+` WHERE id = ? AND _deleted = 0`, id.String()).Scan(&n))
	return n > 0
}

// TestCutCloneWritesDuringResume: the app writes to households between
// the chunks of the resumed clone, to rows the snapshot has not brought
// yet (still listed) and to rows it has; the next sync sends them all.
func TestCutCloneWritesDuringResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home := ts.HamletsA[0]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)

	var hh []syncproto.RowID
	l, tl, _ := cutFirstClone(t, ts, func(l *agent.Replica) {
		for i := 0; i < 12; i++ {
			id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Hộ " + string(rune('A'+i))})
			require.NoError(t, err)
			hh = append(hh, id)
		}
	})
	edits := map[syncproto.RowID]string{}
	n := 0
	_, err = l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Progress: func(p agent.Progress) {
		if p.Phase != "clone" {
			return
		}
		n++
		id := hh[n%len(hh)]
		v := "09" + string(rune('0'+n%10)) + "1234567"
		if err := l.EditHousehold(ctx, id, agent.Fields{"phone": v}); err == nil {
			edits[id] = v
		}
	}})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)
	cf, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf)
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	require.NotEmpty(t, edits)
	for id, v := range edits {
		d, err := fresh.Show(ctx, "households", id.String())
		require.NoError(t, err)
		require.Equal(t, v, d.Fields["phone"], "household %s", id)
	}
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}

// TestCutCloneEditOfRowMovedOutStaysBesideRefusal: during the cut, a
// teammate moves a household the volunteer recorded to the team's other
// hamlet, which the team then loses; offline, she corrects its head's name
// (her laptop still shows it). The next sync: the server refuses her edit
// (the row left the scope before it was made), and the clone's end drops
// the household, as a pull does on a laptop whose clone ended.
func TestCutCloneEditOfRowMovedOutStaysBesideRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)

	var hh []syncproto.RowID
	l, tl, _ := cutFirstClone(t, ts, func(l *agent.Replica) {
		for _, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba"} {
			id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name})
			require.NoError(t, err)
			hh = append(hh, id)
		}
	})
	x := hh[0]
	if !holdsRow(t, l, x) {
		t.Fatal("x not held")
	}
	realSync(t, m, ts, tm)
	require.NoError(t, m.EditHousehold(ctx, x, agent.Fields{"hamlet_code": other}))
	realSync(t, m, ts, tm)
	tick()
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	tick()

	require.NoError(t, l.EditHousehold(ctx, x, agent.Fields{"head_name": "Lý Thị Thu Hà"}))
	s, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second})
	t.Logf("sync: %+v err %v", s, err)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	t.Logf("rejected: %+v", rej)
	t.Logf("x held: %v", holdsRow(t, l, x))
	// As on a laptop whose clone ended (TestBaselineEditOfRowMovedOut...):
	// the refusal names the move, the household left with its hamlet.
	require.Len(t, rej, 1)
	require.Equal(t, "moved_out_of_scope", string(rej[0].Code))
	require.False(t, holdsRow(t, l, x))
}

// Baseline of the above on a laptop whose clone ended.
func TestBaselineEditOfRowMovedOutStaysBesideRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	l, tl := realAgent(t, ts, ts.TeamA)
	x, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lý Thị Thu"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	realSync(t, m, ts, tm)
	require.NoError(t, m.EditHousehold(ctx, x, agent.Fields{"hamlet_code": other}))
	realSync(t, m, ts, tm)
	tick()
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, l.EditHousehold(ctx, x, agent.Fields{"head_name": "Lý Thị Thu Hà"}))
	s, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second})
	t.Logf("sync: %+v err %v", s, err)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	t.Logf("rejected: %+v", rej)
	t.Logf("x held: %v", holdsRow(t, l, x))
	require.Len(t, rej, 1)
	require.False(t, holdsRow(t, l, x))
}

// TestCutCloneVisitToRowMovedOut: during the cut a teammate moves a
// household the volunteer recorded out of the team's scope; offline she
// logs a visit to it and a tutoring record. After the clone ends the
// laptop equals a fresh clone of the server, and her records are on the
// server or in the rejected list.
func TestCutCloneVisitToRowMovedOut(t *testing.T) {
	t.Parallel()
	for _, cut := range []bool{true, false} {
		t.Run(map[bool]string{true: "cut", false: "baseline"}[cut], func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			home, other := ts.HamletsA[0], ts.HamletsA[1]
			m, tm := realAgent(t, ts, ts.TeamA)
			_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
			require.NoError(t, err)
			realSync(t, m, ts, tm)
			var hh []syncproto.RowID
			var l *agent.Replica
			var tl string
			write := func(l *agent.Replica) {
				for _, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba"} {
					id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name})
					require.NoError(t, err)
					hh = append(hh, id)
				}
			}
			if cut {
				l, tl, _ = cutFirstClone(t, ts, write)
			} else {
				l, tl = realAgent(t, ts, ts.TeamA)
				write(l)
				realSync(t, l, ts, tl)
			}
			x := hh[0]
			realSync(t, m, ts, tm)
			require.NoError(t, m.EditHousehold(ctx, x, agent.Fields{"hamlet_code": other}))
			realSync(t, m, ts, tm)
			tick()
			changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
			require.NoError(t, err)
			require.True(t, changed)
			tick()
			v, err := l.AddVisit(ctx, x, agent.Fields{"visited_on": l.Today(), "notes": "thăm"})
			require.NoError(t, err)
			tu, err := l.AddTutoring(ctx, x, agent.Fields{"skill": "vneid_install", "outcome": "independent", "person_name": "Lý Thị Thu"})
			require.NoError(t, err)
			s, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			t.Logf("sync: rejected %d evicted %d cloned %d", s.Rejected, s.Evicted, s.Cloned)
			realSync(t, l, ts, tl)
			rej, err := l.Rejected(ctx)
			require.NoError(t, err)
			for _, r := range rej {
				t.Logf("rejected: %s %s %s %s", r.Table, r.Row, r.Field, r.Code)
			}
			t.Logf("x held %v, visit held %v live %v, tutoring held %v", holdsRow(t, l, x), holdsRow(t, l, v), liveRow(t, l, "visits", v), holdsRow(t, l, tu))
			fresh, tf := realAgent(t, ts, ts.TeamA)
			realSync(t, fresh, ts, tf)
			want, err := fresh.Snapshot(ctx)
			require.NoError(t, err)
			got, err := l.Snapshot(ctx)
			require.NoError(t, err)
			t.Logf("diff with a fresh clone:\n%s", diffSnap(want, got))
			// As on a laptop whose clone ended: the household left with its
			// hamlet, her records stay beside their refusals.
			require.False(t, holdsRow(t, l, x))
			require.True(t, holdsRow(t, l, v))
			require.True(t, holdsRow(t, l, tu))
			require.Len(t, rej, 12)
		})
	}
}

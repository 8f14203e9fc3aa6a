package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestCutCloneOwnMoveOutEqualsServer: after a first sync
// whose clone was cut, the volunteer edits a tutoring record of a household
// and moves the household to the team's other hamlet, which the team then
// loses. The server takes her push (made while the team held it) and the
// record follows the household out of her scope. After the clone the
// laptop must equal a fresh clone of the server.
func TestCutCloneOwnMoveOutEqualsServer(t *testing.T) {
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
			var hh, tus []syncproto.RowID
			write := func(l *agent.Replica) {
				for _, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba"} {
					id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name})
					require.NoError(t, err)
					hh = append(hh, id)
					tu, err := l.AddTutoring(ctx, id, agent.Fields{"skill": "vneid_install", "outcome": "needs_help", "person_name": name})
					require.NoError(t, err)
					tus = append(tus, tu)
				}
			}
			var l *agent.Replica
			var tl string
			if cut {
				l, tl, _ = cutFirstClone(t, ts, write)
			} else {
				l, tl = realAgent(t, ts, ts.TeamA)
				write(l)
				realSync(t, l, ts, tl)
			}
			x, tu := hh[2], tus[2]
			require.True(t, holdsRow(t, l, tu))
			require.NoError(t, l.Update(ctx, "tutoring_records", tu, agent.Fields{"outcome": "independent"}))
			require.NoError(t, l.EditHousehold(ctx, x, agent.Fields{"hamlet_code": other}))
			tick()
			changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
			require.NoError(t, err)
			require.True(t, changed)
			tick()
			s, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second})
			require.NoError(t, err)
			t.Logf("sync: rejected %d evicted %d cloned %d", s.Rejected, s.Evicted, s.Cloned)
			realSync(t, l, ts, tl)
			t.Logf("x held %v tutoring held %v", holdsRow(t, l, x), holdsRow(t, l, tu))
			equalsFreshClone(t, ts, ts.TeamA, l)
		})
	}
}

// TestCutCloneMovedChildEditedThenHamletLost: the volunteer adds a
// household with a tutoring record in her home hamlet and moves the
// household to the team's other hamlet before her first sync, whose clone
// is cut after its first row: the server holds the record where its
// household is, outside the row's hamlet here. She edits the record
// offline, and the team loses the other hamlet. The server takes her edit
// (made while the team held it); the record's chunk is still to come and
// does not bring it. Taken off the clone's list by the Ack, the record
// stayed here in her home hamlet, live, for good (stop 68: simulation
// seed 7780547 of the wide and silent world; root cause and test by a
// helper).
func TestCutCloneMovedChildEditedThenHamletLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	var x, tu syncproto.RowID
	l, tl, _ := cutFirstClone(t, ts, func(l *agent.Replica) {
		var err error
		for i, name := range []string{"Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba", "Đỗ Văn Bốn", "Vũ Thị Năm", "Lê Văn Sáu"} {
			id, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": name})
			require.NoError(t, err)
			if i == 2 {
				x = id
			}
		}
		tu, err = l.AddTutoring(ctx, x, agent.Fields{"skill": "vneid_install", "outcome": "needs_help", "person_name": "Ngô Thị Ba"})
		require.NoError(t, err)
		require.NoError(t, l.EditHousehold(ctx, x, agent.Fields{"hamlet_code": other}))
	})
	require.True(t, holdsRow(t, l, tu))
	require.NoError(t, l.Update(ctx, "tutoring_records", tu, agent.Fields{"outcome": "independent"}))
	serverPast(t, ts, l) // the edit is made before the team loses the hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	s, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Zero(t, s.Rejected, "the edit was made while the team held the hamlet")
	realSync(t, l, ts, tl)
	require.False(t, holdsRow(t, l, tu), "the record followed its household out of her scope")
	equalsFreshClone(t, ts, ts.TeamA, l)
}

package agent_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 30's D3, the back-fill: team C moves a household out of L's
// hamlets while L corrects it; L's pull drops the household and keeps the
// correction, still pending (own_away). L's team then gains the hamlet
// the household is in: L's push of the correction is taken and L stores
// the household from the back-fill's snapshot, the correction with it,
// but kept it too. The team loses the hamlet again (nothing pending:
// nothing to keep), team C writes the name twice and moves the household
// into L's hamlet: L started the returning row from its stale kept
// correction and merged C's last name against it, a conflict the server
// never had.
func TestBackfilledRowForgetsWhatWasKept(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, other := ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{other, kept})
	require.NoError(t, err)
	tick()
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, teamC.ID)
	row, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	require.True(t, holdsRow(t, l, row))

	setHamlet := func(add bool) {
		t.Helper()
		var changed bool
		var err error
		if add {
			changed, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, other)
		} else {
			changed, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
		}
		require.NoError(t, err)
		require.True(t, changed)
		tick()
	}

	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": other}))
	realSync(t, m, ts, tm)
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"phone": "0912345678"}))
	edited := false
	_, err = l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second,
		Progress: func(p agent.Progress) {
			if p.Phase == "push" && !edited {
				edited = true
				require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
			}
		}})
	require.NoError(t, err)
	require.True(t, edited)
	require.False(t, holdsRow(t, l, row), "the household moved out of L's hamlets")
	require.Equal(t, 1, keptAway(t, l), "L keeps its correction, not pushed yet")

	setHamlet(true)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	requireName(t, l, row, "Nguyễn Văn Bính", "the back-fill brings the household back")
	require.Zero(t, keptAway(t, l), "the household is back: nothing kept")
	realSync(t, m, ts, tm)
	requireName(t, m, row, "Nguyễn Văn Bính", "the server took L's correction")

	setHamlet(false)
	realSync(t, l, ts, tl)
	require.False(t, holdsRow(t, l, row))
	for _, name := range []string{"Nguyễn Văn Bính Hai", "Nguyễn Văn Bính Ba"} {
		require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"head_name": name}))
		realSync(t, m, ts, tm)
	}
	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": kept}))
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	requireName(t, l, row, "Nguyễn Văn Bính Ba", "L holds C's last name")
	requireNoConflictBeyondServer(t, ts, l)
}

// pushAckLost syncs r through a proxy that lets the server's Welcome
// through, drops its Ack of the first Push (sent once the batch is
// stored) and refuses every later connection: the sync ends with the
// server holding the push and r not knowing it.
func pushAckLost(t *testing.T, r *agent.Replica, ts *servertest.TS, tok string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var conns sync.WaitGroup
	defer conns.Wait()
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if n > 0 {
				c.Close()
				continue
			}
			conns.Add(1)
			go func(c net.Conn) {
				defer conns.Done()
				defer c.Close()
				s, err := net.Dial("tcp", ts.URL[len("http://"):])
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.Close() }()
				_ = forwardMessages(c, s, 1)
			}(c)
		}
	}()
	_, err = r.Sync(context.Background(), "http://"+ln.Addr().String(), tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.Error(t, err, "the Ack was to be lost")
	ln.Close()
	n, err := r.Pending(context.Background())
	require.NoError(t, err)
	require.NotZero(t, n, "the push is not known to be taken")
}

// keptAway counts the writes r keeps of rows it dropped.
func keptAway(t *testing.T, r *agent.Replica) int {
	t.Helper()
	var n int
	require.NoError(t, r.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM own_away`).Scan(&n))
	return n
}

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

// A laptop's edit of a household, pushed and taken, must stay on the
// laptop when its team then loses the household's hamlet and another
// device had moved the household into a hamlet the team keeps. The move
// logged the row's versions under the new hamlet before the laptop's
// push, and the laptop's edit after them as its own, which its pulls
// leave out; the laptop dropped the row with the lost hamlet after its
// push (nothing of it was waiting any more) and got it back from the
// move's entries alone: without its own edit, for good, while the server
// holds it (issue 17, wide seed 208). The second case pushes the edit in
// an earlier session whose pull was cut.
func TestDroppedHamletKeepsOwnEditsTheServerTook(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		earlyPush bool // the edit is pushed in a session of its own, its pull cut short
	}{
		{"pushed in the session that drops", false},
		{"pushed before, pull cut", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			g, h := ts.OtherHamletA, ts.HamletsA[0]
			team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
			require.NoError(t, err)
			l, tl := realAgent(t, ts, team.ID)
			m, tm := realAgent(t, ts, team.ID)

			row, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": g, "head_name": "Nguyễn Văn Bình", "phone": "0912000111"})
			require.NoError(t, err)
			realSync(t, m, ts, tm)
			realSync(t, l, ts, tl)
			require.True(t, holdsRow(t, l, row))

			// L corrects the head's name offline; M moves the household to
			// H, which the team keeps, and syncs first.
			require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
			require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
			realSync(t, m, ts, tm)
			if tc.earlyPush {
				// L pushes, and its pull stops before the move's entries.
				pushOnly(t, l, ts, tl)
			}
			_, err = ts.Admin.RemoveTeamHamlet(ctx, team.ID, g)
			require.NoError(t, err)

			sum := realSync(t, l, ts, tl)
			require.NotNil(t, sum.ScopeChange)
			require.Equal(t, []string{g}, sum.ScopeChange.Lost)
			realSync(t, l, ts, tl)
			d, err := l.Show(ctx, "households", row.String())
			require.NoError(t, err, "the household moved into a hamlet the laptop keeps")
			require.Equal(t, "Nguyễn Văn Bính", d.Fields["head_name"], "the laptop lost its own edit, which the server took")
			require.Equal(t, h, d.Fields["hamlet_code"])
			require.NoError(t, l.Check(ctx))

			c, tcn := realAgent(t, ts, team.ID)
			realSync(t, c, ts, tcn)
			want, err := c.Snapshot(ctx)
			require.NoError(t, err)
			got, err := l.Snapshot(ctx)
			require.NoError(t, err)
			require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
		})
	}
}

// pushOnly syncs r through a proxy that lets the Welcome and the Ack of
// its one push batch through and cuts the connection when the next message
// (the pull's first Changes) comes; the connections Sync retries on are cut
// after their Welcome. The push is taken and acknowledged, nothing pulled.
func pushOnly(t *testing.T, r *agent.Replica, ts *servertest.TS, tok string) {
	t.Helper()
	err := syncCutAfter(r, ts, tok, func(n int) int {
		if n == 0 {
			return 2 // the Welcome and the push's Ack
		}
		return 1 // a retry: its Welcome only
	})
	require.Error(t, err, "the pull was to be cut")
	n, err := r.Pending(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "the push was acknowledged")
}

// syncCutAfter syncs r through a proxy that lets the n-th connection's
// first frames(n) server messages through and cuts it when the next one
// comes, and returns what Sync returned.
func syncCutAfter(r *agent.Replica, ts *servertest.TS, tok string, frames func(n int) int) error {
	return syncCutAfterWith(r, ts, tok, frames, agent.SyncOptions{IOTimeout: 5 * time.Second})
}

// syncCutAfterWith is syncCutAfter with opts.
func syncCutAfterWith(r *agent.Replica, ts *servertest.TS, tok string, frames func(n int) int, opts agent.SyncOptions) error {
	return syncCutAfterGated(r, ts, tok, frames, opts, nil)
}

// syncCutAfterGated is syncCutAfterWith calling before(i), when set, before
// it forwards the first connection's frame i (0: the Welcome).
func syncCutAfterGated(r *agent.Replica, ts *servertest.TS, tok string, frames func(n int) int, opts agent.SyncOptions, before func(i int)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var conns sync.WaitGroup
	defer conns.Wait()
	defer ln.Close()
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			gate := before
			if n > 0 {
				gate = nil
			}
			go func(c net.Conn, frames int) {
				defer conns.Done()
				defer c.Close()
				s, err := net.Dial("tcp", ts.URL[len("http://"):])
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.Close() }()
				_ = forwardMessagesGated(c, s, frames, gate)
			}(c, frames(n))
		}
	}()
	_, err = r.Sync(context.Background(), "http://"+ln.Addr().String(), tok, opts)
	return err
}

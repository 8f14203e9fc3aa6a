package agent_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A volunteer moves a household into a hamlet her team has just lost: the
// server refuses the move, and her rejected list says so. A teammate,
// later, moves the household to the team's third hamlet, and the server
// takes it. Her laptop meets the teammate's move over her refused one: in
// a pull, or in a clone started again that keeps the household for its
// refused change (the path of simulation seed 8400022, wide world, where a
// copy's report status refused read_only met the other copy's). It listed
// her refused move as a conflict she lost too: the same edit shown twice,
// a "restore" that writes the refused move again, and a conflict that
// outlived the move's discard. The server refused it and logged nothing.
func TestRefusedWriteWrittenOverIsNoConflict(t *testing.T) {
	t.Parallel()
	for _, clone := range []bool{false, true} {
		t.Run(map[bool]string{false: "pull", true: "clone started again"}[clone], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts := servertest.Start(t)
			first, lost, third := ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
			_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, third)
			require.NoError(t, err)
			b, tb := realAgent(t, ts, ts.TeamA)
			hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Lâm Thị Sáu"})
			require.NoError(t, err)
			other, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Phan Văn Mười"})
			require.NoError(t, err)
			realSync(t, b, ts, tb)
			if clone && other.String() < hh.String() {
				hh, other = other, hh // the first chunk brings hh (rows come in id order)
			}

			a, ta := realAgent(t, ts, ts.TeamA)
			if clone {
				// A's first clone stops after its first chunk: it holds hh.
				cctx, cancel := context.WithCancel(ctx)
				proxy, _ := faultProxy(t, ts.URL[len("http://"):], func(c, s net.Conn, fired func()) {
					go func() { io.Copy(s, c); s.Close() }()
					if forwardMessages(c, s, 2) == nil { // the Welcome and the first chunk
						fired()
					}
					<-cctx.Done()
				})
				_, err = a.Sync(cctx, proxy, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Progress: func(p agent.Progress) {
					if p.Phase == "clone" && p.Done > 0 {
						cancel()
					}
				}})
				cancel()
				require.Error(t, err)
				require.True(t, holdsRow(t, a, hh), "the first chunk was stored")
				servertest.WaitSessions(t, ts, 0)
			} else {
				realSync(t, a, ts, ta)
			}

			_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
			require.NoError(t, err)
			tick()
			require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
			if !clone {
				realSync(t, a, ts, ta)
			}
			clockPast(t, a, b)
			require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": third}))
			realSync(t, b, ts, tb)
			sum := realSync(t, a, ts, ta)
			if clone {
				require.Positive(t, sum.Cloned, "the clone started again")
			}
			move := rejectedMoveID(t, a, hh)

			h, err := a.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, third, h.Fields["hamlet_code"], "the teammate's move, as the server holds it")
			requireNoConflictOf(t, a, "the refused move is in the rejected list; it lost nothing on the server, which logged no conflict")

			require.NoError(t, a.DiscardRejected(ctx, move))
			realSync(t, a, ts, ta)
			h, err = a.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, third, h.Fields["hamlet_code"])
			requireNoConflictOf(t, a, "nothing is left to restore once the refused move is discarded")
		})
	}
}

func requireNoConflictOf(t *testing.T, a *agent.Replica, msg string) {
	t.Helper()
	cs, err := a.Conflicts(context.Background(), true)
	require.NoError(t, err)
	for _, c := range cs {
		t.Errorf("%s: %s.%s: %v (mine %v) lost to %v", msg, c.Table, c.Field, c.Loser.Value, c.Loser.Mine, c.Winner.Value)
	}
}

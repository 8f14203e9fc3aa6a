package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The operator takes a hamlet from a team with the command line (another
// process on the server's data): a session open then keeps its scope until
// the server's periodic check (Config.RevokeCheck, off here) ends it. A
// volunteer's app keeps such a session (Watch): her edits go out at its
// next poll, a teammate's as soon as the server announces them. She moves
// a household into the hamlet just taken, and before her move goes out, a
// teammate's later move of it reaches her laptop and wins the merge over
// her pending one: a conflict she lost, recorded then (the server had not
// answered yet). Her next session pushes first, and the server refuses her
// move. The refusal is in her rejected list with its reason; the conflict
// stayed too: the same edit told twice, a "restore" that writes the
// refused move again, and a conflict that outlived the move's discard. A
// refusal that came before the merge lists no conflict
// (TestRefusedWriteWrittenOverIsNoConflict); the order of the two must not
// matter. Nor whether she restored it meanwhile: the restore is a write of
// its own, pushed and answered as one, and the server, which never took
// the move, logged no conflict.
func TestRefusedAfterLosingAPullIsNoConflict(t *testing.T) {
	t.Parallel()
	for _, restore := range []bool{false, true} {
		t.Run(map[bool]string{false: "listed", true: "restored before the push"}[restore], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = -1 }))
			first, lost, third := ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
			_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, third)
			require.NoError(t, err)
			b, tb := realAgent(t, ts, ts.TeamA)
			hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Lâm Thị Sáu"})
			require.NoError(t, err)
			realSync(t, b, ts, tb)
			a, ta := realAgent(t, ts, ts.TeamA)
			realSync(t, a, ts, ta)

			// Her session stays open; it pushes at its next poll (an hour).
			wctx, stop := context.WithCancel(ctx)
			synced := make(chan agent.SyncSummary, 16)
			done := make(chan error, 1)
			go func() {
				done <- a.Watch(wctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, PollInterval: time.Hour,
					OnSync: func(s agent.SyncSummary, err error) {
						if err == nil {
							synced <- s
						}
					}})
			}()
			<-synced // the session is open and idle

			cli, err := servertest.Open(ctx, ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1, RevokeCheck: -1})
			require.NoError(t, err)
			changed, err := cli.Admin().RemoveTeamHamlet(ctx, ts.TeamA, lost)
			require.NoError(t, err)
			require.True(t, changed)
			require.NoError(t, cli.Close())
			tick()
			require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
			clockPast(t, a, b)
			require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": third}))
			realSync(t, b, ts, tb)
			for pulled := false; !pulled; { // the server's Notify, and her session's pull
				select {
				case s := <-synced:
					pulled = s.Pulled > 0
				case err := <-done:
					t.Fatalf("her session ended before it pulled the teammate's move: %v", err)
				case <-time.After(time.Minute):
					t.Fatal("her session never pulled the teammate's move")
				}
			}
			stop()
			require.NoError(t, <-done)

			n, err := a.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "her move still waits to be pushed")
			cs, err := a.Conflicts(ctx, false)
			require.NoError(t, err)
			require.Len(t, cs, 1, "the teammate's move won over her pending one")
			require.True(t, cs[0].Loser.Mine)
			require.Equal(t, lost, cs[0].Loser.Value)
			if restore {
				_, err := a.RestoreConflict(ctx, cs[0].ID)
				require.NoError(t, err)
			}

			sum := realSync(t, a, ts, ta)
			require.Positive(t, sum.Rejected, "the server refused her move")
			rejectedMoveID(t, a, hh)
			requireNoConflictOf(t, a, "the refused move is in the rejected list; it lost nothing on the server, which logged no conflict")

			rej, err := a.Rejected(ctx)
			require.NoError(t, err)
			for _, x := range rej {
				require.NoError(t, a.DiscardRejected(ctx, x.ID))
			}
			realSync(t, a, ts, ta)
			h, err := a.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, third, h.Fields["hamlet_code"], "the teammate's move, as the server holds it")
			requireNoConflictOf(t, a, "nothing is left to restore once the refused move is discarded")
		})
	}
}

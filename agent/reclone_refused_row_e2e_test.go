package agent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRecloneKeepsARefusedRowBeingCorrected (issue 17, wide and silent
// seed 1301407): a laptop adds a household in a hamlet its team has lost;
// the server refuses it. The laptop stays silent past the horizon and is
// told to clone again. While that session's push waits for its Ack, the
// volunteer corrects the household into the team's other hamlet. The
// correction fixed the refused writes of its fields, whose outbox entries
// went, so the re-clone took the household's history for versions the
// server held, dropped it as a synced row the snapshot would bring back,
// and the snapshot could not: the server never held it. Pushed next, the
// correction made the household on the server, and the laptop, whose
// pulls leave out its own writes, never had it again.
func TestRecloneKeepsARefusedRowBeingCorrected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.GCInterval, c.Now, c.SilentAfter = -1, clk.now, time.Hour
	}))
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, ts.TeamA)
	x, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ của bạn"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl) // the server hears l stored it

	// Offline, not knowing the team lost a hamlet, the volunteer adds a
	// household there, and another in the hamlet the team keeps.
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": lost, "head_name": "Hộ mới"})
	require.NoError(t, err)
	_, err = l.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ khác"})
	require.NoError(t, err)

	// l stays silent; m corrects its household twice and collection
	// clears the base above l's cursor: l is to clone again.
	ts.WaitSessionsEnded(t) // a session still ending would be seen active after the jump
	clk.advance(2 * time.Hour)
	for _, name := range []string{"Hộ của bạn, sửa", "Hộ của bạn, sửa lại"} {
		tick()
		require.NoError(t, m.EditHousehold(ctx, x, agent.Fields{"head_name": name}))
		realSync(t, m, ts, tm)
	}
	realSync(t, m, ts, tm)
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.NotZero(t, st.Bases)

	// l syncs: its first batch (the household in the lost hamlet) is
	// refused; before the second batch's Ack is read, the volunteer, who
	// sees the refusal, corrects the household into the kept hamlet.
	var hookErr error
	acks := 0
	frames := func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			return nil, resp, err
		}
		return &onAck{Conn: c, hook: func() {}, each: func() {
			if acks++; acks == 2 {
				// The first Ack is read before this one; wait until the
				// agent has stored its refusal, as the volunteer saw it.
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					if rej, err := l.Rejected(ctx); err == nil && len(rej) > 0 {
						break
					}
				}
				hookErr = l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": kept, "head_name": "Hộ mới, sửa"})
			}
		}}, resp, nil
	}
	sum, err := l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, Frames: frames, BatchSize: 4})
	require.NoError(t, err)
	require.NoError(t, hookErr)
	require.Equal(t, 2, acks)
	require.NotZero(t, sum.Rejected, "the household in the lost hamlet is refused")
	require.NotZero(t, sum.Cloned, "told to clone again")
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)

	got, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the laptop holds the household it corrected, which the server now holds")
	require.Equal(t, "Hộ mới, sửa", got.Fields["head_name"])
	require.Equal(t, kept, got.Fields["hamlet_code"])
}

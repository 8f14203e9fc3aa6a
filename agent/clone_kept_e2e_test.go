package agent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// onAck is a sync connection that runs hook once, when the first Ack
// arrives and before the agent reads it: what a volunteer does in the app
// while a sync waits on the network.
type onAck struct {
	*websocket.Conn
	hook func() // at the first Ack, before the agent reads it
	each func() // at every Ack, before the agent reads it
}

func (c *onAck) ReadMessage() (int, []byte, error) {
	t, p, err := c.Conn.ReadMessage()
	if err == nil && (c.hook != nil || c.each != nil) {
		if m, derr := syncproto.Decode(p, syncproto.DefaultLimits); derr == nil {
			if _, ok := m.(*syncproto.Ack); ok {
				if c.each != nil {
					c.each()
				}
				if h := c.hook; h != nil {
					c.hook = nil
					h()
				}
			}
		}
	}
	return t, p, err
}

// TestCloneDoesNotKeepAStaleRowItWasStillWriting (issue 17: seed 701023 of
// the wide and silent worlds with truncation): a laptop that never pulled
// adds a household and a tutoring record, then moves the household to the
// team's other hamlet; the team loses that hamlet before the laptop syncs.
// The push is taken (each change judged by when it was made) and the
// server moves the tutoring record with its household, out of the
// laptop's scope. While the push waits for its Ack the volunteer edits the
// tutoring record. The first clone drops the synced rows first, but keeps
// those with a change still waiting, and the snapshot says nothing of rows
// it does not hold: the laptop kept the record in its old hamlet, live, for
// good, while the server holds it in the hamlet the team lost.
//
// When the edit is refused decides the path. Refused in the next session,
// the first clone dropped the record, its edit waiting (dropHeld). Refused
// in the session that clones, before the clone, the record was kept for
// its refusal (holdSynced), and the snapshot, which does not bring it, said
// nothing of it: after the discard it stayed on the laptop for good. With
// the push's usual window it sends its batch and looks for more before the
// Ack arrives, and whether it saw the edit depended on which goroutine ran
// first (both happened); with a window of one batch it looks again only
// after reading the Ack, and always sends the edit in this session.
//
// If the team also gained a hamlet, the session's rescope, after the
// clone had listed the record as kept for its refusal, cleared that list
// with the clone's position (of a clone not started yet), and the clone's
// end kept the record for good (stop 68, found by a review).
func TestCloneDoesNotKeepAStaleRowItWasStillWriting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		window int  // SyncOptions.Window of the sync that clones
		gain   bool // the team gains a hamlet too before the laptop syncs
	}{
		{"usual window", 0, false},
		{"edit refused before the clone", 1, false},
		{"edit refused before the clone, a hamlet gained", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cloneKeepsNoStaleRow(t, tc.window, tc.gain)
		})
	}
}

func cloneKeepsNoStaleRow(t *testing.T, window int, gain bool) {
	ctx := context.Background()
	ts := servertest.Start(t)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	m, tm := realAgent(t, ts, ts.TeamA)
	_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phan Văn Tài"})
	require.NoError(t, err)
	realSync(t, m, ts, tm) // the server's log is not empty: a first sync clones

	l, tl := realAgent(t, ts, ts.TeamA)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lý Thị Thu"})
	require.NoError(t, err)
	tut, err := l.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "needs_help", "person_name": "Lý Thị Thu"})
	require.NoError(t, err)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": other}))
	serverPast(t, ts, l) // the move is made before the team loses the hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	if gain {
		changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
		require.NoError(t, err)
		require.True(t, changed)
	}

	frames := func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			return nil, resp, err
		}
		return &onAck{Conn: c, hook: func() {
			// The edit is made after the server recorded the move (before
			// its Ack), by more than the laptop's clock can be off: the
			// server dates the move by its own clock and the edit by the
			// laptop's, corrected by an offset measured at the Welcome to
			// within half a round trip. Within that, the server may judge
			// the edit made while the record was still in its old hamlet
			// and take it (helper 260 and stop 58 saw it 1 run in 40 on
			// a loaded machine: "refused: []", the edit on the server).
			laptopPast(t, l, time.Now())
			require.NoError(t, l.Update(ctx, "tutoring_records", tut, agent.Fields{"outcome": "independent"}))
		}}, resp, nil
	}
	_, err = l.Sync(ctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, Frames: frames, Window: window})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	// The edit, made after the team lost the record's hamlet, is refused,
	// in this session or the next, depending on whether the push saw it
	// before it ended (CI saw both; window 1: this one). The refusal stays
	// on the list for the volunteer, whether the record went with the clone
	// or not (a record with a refused change stays until she acts only
	// where the server still holds it here). She discards it.
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the edit of the moved record is refused: %+v", rej)
	for _, r := range rej {
		require.Equal(t, tut.String(), r.Row, "only the edit of the moved record is refused: %+v", r)
		require.NoError(t, l.DiscardRejected(ctx, r.ID))
	}
	realSync(t, l, ts, tl)

	for table, id := range map[string]syncproto.RowID{"households": hh, "tutoring_records": tut} {
		_, err := l.Show(ctx, table, id.String())
		require.ErrorIs(t, err, agent.ErrNotFound, "the laptop holds %s %s, which the server moved out of its scope", table, id)
	}
	equalsFreshClone(t, ts, ts.TeamA, l)
}

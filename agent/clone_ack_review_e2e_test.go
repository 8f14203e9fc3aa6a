package agent_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// loseAck is a sync connection that loses the first Ack: the server took
// the push, and the connection drops before the agent reads its answer.
type loseAck struct {
	*websocket.Conn
	lost    *atomic.Bool
	between func() // once the Ack is lost, before the agent hears of it
}

func (c *loseAck) ReadMessage() (int, []byte, error) {
	t, p, err := c.Conn.ReadMessage()
	if err == nil && !c.lost.Load() {
		if m, derr := syncproto.Decode(p, syncproto.DefaultLimits); derr == nil {
			if _, ok := m.(*syncproto.Ack); ok {
				c.lost.Store(true)
				c.Conn.Close()
				if c.between != nil {
					c.between()
				}
				return 0, nil, errors.New("the connection dropped before the Ack")
			}
		}
	}
	return t, p, err
}

// recloneCut: a laptop holding eight households of its own (phone
// 0901000001), a teammate who pulled them, and a re-clone of the laptop
// cut after its first chunk. ids are the households in the order the
// snapshot sends them; before, when set, runs before the re-clone starts,
// with the last.
func recloneCut(t *testing.T, before func(ts *servertest.TS, b *agent.Replica, tb string, x syncproto.RowID)) (ts *servertest.TS, a *agent.Replica, ta string, b *agent.Replica, tb string, ids []syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	ts = servertest.Start(t)
	a, ta = realAgent(t, ts, ts.TeamA)
	for i := range 8 {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ số " + itoa(i), "phone": "0901000001"})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	realSync(t, a, ts, ta)
	slices.SortFunc(ids, func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) })
	b, tb = realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	if before != nil {
		before(ts, b, tb, ids[len(ids)-1])
	}
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	syncCutAfterChunks(t, ts, a, ta, 1, ids[0])
	return ts, a, ta, b, tb, ids
}

// TestRecloneOwnWriteAckLostCompetedIsAConflict: during a cut re-clone
// the volunteer corrects a household's phone; the sync that pushes it is
// cut before its Ack. A teammate, offline with the old phone, writes
// another phone, later. The server takes both and records the conflict:
// the teammate's phone won over the volunteer's. The next sync pushes the
// correction again (the server answers duplicate) and the Ack takes the
// household off the clone's list. The volunteer's phone is one the server
// took after the clone's head, so the pull brings every write over it in
// order: the teammate's came over the old phone, a real conflict, and the
// volunteer must see her correction lost.
func TestRecloneOwnWriteAckLostCompetedIsAConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, b, tb, ids := recloneCut(t, nil)
	x := ids[len(ids)-1]

	tick()
	require.NoError(t, a.EditHousehold(ctx, x, agent.Fields{"phone": "0904000004"}))
	// The teammate writes while the laptop's sync waits to connect again.
	var lost atomic.Bool
	var between error
	frames := func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			return nil, resp, err
		}
		return &loseAck{Conn: c, lost: &lost, between: func() {
			tick()
			if between = b.EditHousehold(ctx, x, agent.Fields{"phone": "0905000005"}); between == nil {
				_, between = b.Sync(ctx, ts.URL, tb, agent.SyncOptions{IOTimeout: 10 * time.Second})
			}
		}}, resp, nil
	}
	_, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, MinBackoff: 10 * time.Millisecond, Frames: frames})
	require.NoError(t, err)
	require.True(t, lost.Load(), "the Ack was lost")
	require.NoError(t, between)
	realSync(t, a, ts, ta)

	got, err := a.Show(ctx, "households", x.String())
	require.NoError(t, err)
	require.Equal(t, "0905000005", got.Fields["phone"], "the teammate's later phone won")
	lostPhone := func(r *agent.Replica) bool {
		cf, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		for _, c := range cf {
			if c.Field == "phone" && c.Loser.Value == "0904000004" && c.Winner.Value == "0905000005" {
				return true
			}
		}
		return false
	}
	require.True(t, lostPhone(b), "the teammate's laptop lists the conflict")
	require.True(t, lostPhone(a), "the volunteer's correction lost to a teammate's write that competed with it; her laptop lists no conflict")
}

// TestRecloneAckThenCutAgainNoFalseConflict: as
// TestRecloneRowAckedMidCloneNoFalseConflict, but the session whose push
// takes the household off the clone's list is cut again before the chunk
// that brings it; the teammate corrects the phone once more meanwhile.
// The notes taken at the Ack outlive the cut: the pull after the clone's
// end brings the teammate's corrections over it without a conflict.
func TestRecloneAckThenCutAgainNoFalseConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, b, tb, ids := recloneCut(t, func(ts *servertest.TS, b *agent.Replica, tb string, x syncproto.RowID) {
		require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0902000002"})) // before the clone's head
		realSync(t, b, ts, tb)
	})
	x := ids[len(ids)-1]
	tick()
	require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0903000003"}))
	realSync(t, b, ts, tb)
	tick()
	require.NoError(t, a.EditHousehold(ctx, x, agent.Fields{"head_name": "Đỗ Văn Năm"}))
	syncCutAfterChunks(t, ts, a, ta, 1, ids[1]) // pushes, takes x off the list
	var listed int
	require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT count(*) FROM clone_drop WHERE row_id = ?`, x.String()).Scan(&listed))
	require.Zero(t, listed, "the Ack took the household off the clone's list")
	require.True(t, holdsRow(t, a, x))
	tick()
	require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0906000006"}))
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	cf, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf)
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	have, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the laptop equals the server\n%s", diffSnap(want, have))
}

// cutAfterChunks is a sync connection that drops at the snapshot chunk
// after n, once the agent stored the ones before (stored), and ends the
// sync (cancel).
type cutAfterChunks struct {
	*websocket.Conn
	n      int
	stored func() bool
	cancel func()
}

func (c *cutAfterChunks) ReadMessage() (int, []byte, error) {
	t, p, err := c.Conn.ReadMessage()
	if err == nil {
		if m, derr := syncproto.Decode(p, syncproto.DefaultLimits); derr == nil {
			if _, ok := m.(*syncproto.SnapshotChunk); ok {
				if c.n == 0 {
					for end := time.Now().Add(10 * time.Second); !c.stored() && time.Now().Before(end); {
						time.Sleep(5 * time.Millisecond)
					}
					c.Conn.Close()
					c.cancel()
					return 0, nil, errors.New("the connection dropped")
				}
				c.n--
			}
		}
	}
	return t, p, err
}

// syncCutAfterChunks runs one sync of r that stores snapshot chunks of
// one row each up to the one ending at row last, then drops.
func syncCutAfterChunks(t *testing.T, ts *servertest.TS, r *agent.Replica, tok string, n int, last syncproto.RowID) {
	t.Helper()
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stored := func() bool {
		var row string
		err := r.DB().QueryRowContext(context.Background(), `SELECT coalesce((SELECT value FROM agent_meta WHERE key = 'clone_row'), '')`).Scan(&row)
		return err == nil && row == last.String()
	}
	frames := func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			return nil, resp, err
		}
		return &cutAfterChunks{Conn: c, n: n, stored: stored, cancel: cancel}, resp, nil
	}
	_, err := r.Sync(cctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Frames: frames})
	require.Error(t, err)
	servertest.WaitSessions(t, ts, 0)
	require.True(t, stored(), "the clone stored its chunks up to %s", last)
}

// TestRestartedCloneKeptRefusedRowLeftOutFieldNoFalseConflict: a first
// clone cut after its second chunk; the volunteer, whose clock runs days
// ahead, writes a registration date of the second household that the
// server refuses, and a teammate corrects that household's phone. The
// team gains a hamlet: the next sync pushes (refused) and starts the
// clone again, keeping the household for its refusal, with the phone the
// first attempt stored (review 36). That clone is cut after its first
// chunk, and the teammate corrects the phone again: the chunk that brings
// the household leaves the phone out (the pull from the new head brings
// it), and the pull brings the second correction, based on the first,
// which the laptop never saw.
func TestRestartedCloneKeptRefusedRowLeftOutFieldNoFalseConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	w, tw := realAgent(t, ts, ts.TeamA)
	var ids []syncproto.RowID
	for i := range 4 {
		id, err := w.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ số " + itoa(i), "phone": "0901000001", "registered_on": day(-10)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	realSync(t, w, ts, tw)
	slices.SortFunc(ids, func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) })
	x := ids[1] // the second chunk's

	var skew atomic.Int64 // the laptop's clock, once it jumps ahead
	l, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "l.db"), agent.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	syncCutAfterChunks(t, ts, l, tl, 2, x)
	require.True(t, holdsRow(t, l, x), "the first attempt stored the household")

	skew.Store(int64(5 * 24 * time.Hour))
	require.NoError(t, l.EditHousehold(ctx, x, agent.Fields{"registered_on": day(3)}))
	require.NoError(t, w.EditHousehold(ctx, x, agent.Fields{"phone": "0902000002"}))
	realSync(t, w, ts, tw)
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	syncCutAfterChunks(t, ts, l, tl, 1, ids[0]) // pushes (refused), starts the clone again
	require.Contains(t, rejectedByField(t, l), "registered_on")
	d, err := l.Show(ctx, "households", x.String())
	require.NoError(t, err)
	require.Equal(t, "0901000001", d.Fields["phone"], "the second attempt has not brought the household yet")

	tick()
	require.NoError(t, w.EditHousehold(ctx, x, agent.Fields{"phone": "0903000003"}))
	realSync(t, w, ts, tw)
	realSync(t, l, ts, tl)

	d, err = l.Show(ctx, "households", x.String())
	require.NoError(t, err)
	require.Equal(t, "0903000003", d.Fields["phone"])
	cf, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, c := range cf {
		require.NotEqual(t, "phone", c.Field, "the laptop lists a conflict on the phone no one wrote against: %v lost to %v", c.Loser.Value, c.Winner.Value)
	}
}

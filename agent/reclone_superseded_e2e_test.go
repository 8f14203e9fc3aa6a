package agent_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRecloneKeepsASupersededWriteForItsWinner (issue 17, simulation seed
// 8640824 of every world): offline, a volunteer corrects a household's
// head; a teammate corrects it later by the clock and syncs first. Her
// laptop, away past the server's floor, syncs: the push's Ack answers her
// correction superseded, and the clone starts again. While its first
// chunk travels, a third volunteer writes the head over the teammate's:
// the chunk that brings the household leaves the head out (it is past the
// snapshot's head) and the pull after the clone brings it. Her laptop
// must list her correction as lost. The clone replaced the household,
// synced with nothing awaiting a result, by the chunk's fields alone, her
// superseded correction with them, and the pull then installed the third
// volunteer's head over nothing: her laptop showed no conflict.
//
// The clone that keeps the household, for an edit of its phone she made
// as the clone began, merges the chunk's fields with what it holds, her
// correction included, and told her already: the pull's write over the
// teammate's, which her laptop never saw, must still count as the write
// that beat hers, not as one written over it (carriedOut).
func TestRecloneKeepsASupersededWriteForItsWinner(t *testing.T) {
	t.Parallel()
	for _, kept := range []bool{false, true} {
		name := "replaced"
		if kept {
			name = "kept for an edit"
		}
		t.Run(name, func(t *testing.T) { recloneKeepsSuperseded(t, kept) })
	}
}

func recloneKeepsSuperseded(t *testing.T, kept bool) {
	t.Parallel()
	ctx := context.Background()
	clk, ts, enroll := clockedTeam(t)
	a, ta := enroll()
	b, tb := enroll()
	c, tc := enroll()
	// Three households, one chunk each: the one corrected is not the
	// first the snapshot sends.
	var ids []syncproto.RowID
	for i := range 3 {
		id, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ số " + itoa(i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y syncproto.RowID) int { return bytes.Compare(x[:], y[:]) })
	hh := ids[len(ids)-1]
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	realSync(t, c, ts, tc)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"head_name": "Đinh Văn Hai"}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Đinh Văn Hải"}))
	realSync(t, b, ts, tb)

	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	clk.advance(time.Minute)
	var once sync.Once
	var between, edited error
	frames := func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			return nil, resp, err
		}
		return &onFirstChunk{Conn: conn, once: &once, onAck: func() {
			if kept {
				edited = a.EditHousehold(ctx, hh, agent.Fields{"phone": "0913000333"})
			}
		}, between: func() {
			if _, between = c.Sync(ctx, ts.URL, tc, agent.SyncOptions{IOTimeout: 10 * time.Second}); between != nil {
				return
			}
			clk.advance(time.Minute)
			if between = c.EditHousehold(ctx, hh, agent.Fields{"head_name": "Đinh Văn Hải (em)"}); between == nil {
				_, between = c.Sync(ctx, ts.URL, tc, agent.SyncOptions{IOTimeout: 10 * time.Second})
			}
		}}, resp, nil
	}
	sum, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Frames: frames})
	require.NoError(t, err)
	require.NoError(t, between)
	require.NoError(t, edited)
	require.Equal(t, 3, sum.Cloned, "past the floor, her laptop clones again: %+v", sum)
	require.Equal(t, 1, sum.Pulled, "the third volunteer's head comes by the pull: %+v", sum)

	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Đinh Văn Hải (em)", d.Fields["head_name"])
	require.Equal(t, []any{"Đinh Văn Hai"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
}

// onFirstChunk runs between once, when the first snapshot chunk arrives,
// before the agent reads it, and onAck when an Ack arrives.
type onFirstChunk struct {
	*websocket.Conn
	once    *sync.Once
	between func()
	onAck   func()
}

func (c *onFirstChunk) ReadMessage() (int, []byte, error) {
	t, p, err := c.Conn.ReadMessage()
	if err == nil {
		if m, derr := syncproto.Decode(p, syncproto.DefaultLimits); derr == nil {
			switch m.(type) {
			case *syncproto.SnapshotChunk:
				c.once.Do(c.between)
			case *syncproto.Ack:
				c.onAck()
			}
		}
	}
	return t, p, err
}

package agent_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// firstAckDropProxy forwards TCP to target. On its first connection it
// passes the HTTP upgrade and every server message until the first Ack
// with results, which it drops, and cuts the connection: the server has
// stored the batch, the agent never learns its results. Later connections
// pass untouched.
func firstAckDropProxy(t *testing.T, target string) (url string, dropped *atomic.Int32) {
	return faultProxy(t, target, func(c, s net.Conn, fired func()) {
		go func() { io.Copy(s, c); s.Close() }()
		if dropFirstAck(c, s) == nil {
			fired()
		}
	})
}

// dropFirstAck copies the HTTP response and then WebSocket frames from s
// to c until a whole, uncompressed binary message that decodes as an Ack
// with results; that one it keeps back, and returns.
func dropFirstAck(c io.Writer, s io.Reader) error {
	br := bufio.NewReader(s)
	if err := forwardUpgrade(c, br); err != nil {
		return err
	}
	for {
		h := make([]byte, 2)
		if _, err := io.ReadFull(br, h); err != nil {
			return err
		}
		n := uint64(h[1] & 0x7f) // server frames are not masked
		switch n {
		case 126:
			x := make([]byte, 2)
			if _, err := io.ReadFull(br, x); err != nil {
				return err
			}
			h, n = append(h, x...), uint64(binary.BigEndian.Uint16(x))
		case 127:
			x := make([]byte, 8)
			if _, err := io.ReadFull(br, x); err != nil {
				return err
			}
			h, n = append(h, x...), binary.BigEndian.Uint64(x)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		const fin, rsv1, binaryOp = 0x80, 0x40, 0x2
		if h[0]&(fin|rsv1|0x0f) == fin|binaryOp {
			if m, err := syncproto.Decode(body, syncproto.DefaultLimits); err == nil {
				if ack, ok := m.(*syncproto.Ack); ok && len(ack.Results) > 0 {
					return nil
				}
			}
		}
		if _, err := c.Write(append(h, body...)); err != nil {
			return err
		}
	}
}

// TestLostAckOfRestampedEdit (review 26 F3): in a watch session a laptop
// pushes an edit stamped 5 s ahead of the server (its clock moved after the
// session measured it, in a way the session cannot see). The server
// restamps it and says so in the Ack, which is lost. The session's retry
// pushes the edit again and must learn the server's stamp from the answer
// (duplicate), as it would have from the Ack: else it keeps its own stamp.
// Then a team-mate writes over the edit, stamped between the two stamps;
// the laptop must take that write, as the server did, and record no
// conflict: nothing competed.
func TestLostAckOfRestampedEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	enroll := func(now func() time.Time) (*agent.Replica, string) {
		r := agenttest.New(t, agent.Options{Now: now})
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
		require.NoError(t, err)
		return r, tok
	}
	other, to := enroll(real.now)
	lc := &handClock{real: real}
	lap, tl := enroll(lc.now)
	hh, err := other.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Đặng Văn E", "phone": "0900000000"})
	require.NoError(t, err)
	realSync(t, other, ts, to)
	realSync(t, lap, ts, tl)

	proxy, dropped := firstAckDropProxy(t, ts.URL[len("http://"):])
	wctx, stop := context.WithCancel(ctx)
	type cycle struct {
		s   agent.SyncSummary
		err error
	}
	cycles := make(chan cycle, 64)
	done := make(chan error, 1)
	go func() {
		done <- lap.Watch(wctx, proxy, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, PollInterval: 20 * time.Millisecond,
			MinBackoff: 10 * time.Millisecond, NoPhotos: true,
			OnSync: func(s agent.SyncSummary, err error) { cycles <- cycle{s, err} }})
	}()
	c := <-cycles // the session is open and has measured the clock
	require.NoError(t, c.err)
	lc.shift.Store(int64(5 * time.Second))
	require.NoError(t, lap.EditHousehold(ctx, hh, agent.Fields{"phone": "0911111111"}))
	// The push's Ack is dropped and the connection cut; the next session
	// pushes the edit again and gets its result.
	for c = range cycles {
		if c.err != nil {
			break
		}
	}
	for c = range cycles {
		if c.err == nil {
			break
		}
	}
	stop()
	require.NoError(t, <-done)
	require.EqualValues(t, 1, dropped.Load(), "the Ack of the edit was dropped")
	n, err := lap.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the edit's result came with the second session")

	// The team-mate pulls the edit (at the server's stamp) and writes over it.
	realSync(t, other, ts, to)
	require.NoError(t, other.EditHousehold(ctx, hh, agent.Fields{"phone": "0922222222"}))
	realSync(t, other, ts, to)
	realSync(t, lap, ts, tl)

	fresh, tf := enroll(real.now)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "0922222222", want.Fields["phone"], "the server holds the team-mate's write")
	got, err := lap.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, want.Fields["phone"], got.Fields["phone"], "the laptop holds what the server holds")
	cf, err := lap.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf, "no conflict on the laptop: the team-mate wrote over its edit, nothing competed")
}

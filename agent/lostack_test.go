package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// ackDropProxy forwards TCP to target. On its first connection it lets the
// HTTP upgrade and the server's first WebSocket message (Welcome) through,
// then, when the server's second message (the Ack of the first Push) comes,
// drops it and cuts the connection: the server has stored the batch (an Ack
// is sent only once it is durable), the agent never learns its results.
// Later connections pass untouched.
func ackDropProxy(t *testing.T, target string) (url string, dropped *atomic.Int32) {
	return faultProxy(t, target, func(c, s net.Conn, fired func()) {
		go func() { io.Copy(s, c); s.Close() }()
		if forwardMessages(c, s, 1) == nil {
			fired()
		}
	})
}

// forwardMessages copies the HTTP response and n WebSocket frames from s to
// c, then waits for the next frame's header and returns.
func forwardMessages(c io.Writer, s io.Reader, n int) error {
	return forwardMessagesGated(c, s, n, nil)
}

// forwardUpgrade copies the server's HTTP upgrade response, up to its
// blank line, from br to c: what follows in br is WebSocket frames.
func forwardUpgrade(c io.Writer, br *bufio.Reader) error {
	var head bytes.Buffer
	for !bytes.HasSuffix(head.Bytes(), []byte("\r\n\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			return err
		}
		head.WriteByte(b)
	}
	_, err := c.Write(head.Bytes())
	return err
}

// forwardMessagesGated is forwardMessages calling before(i), when set,
// before it forwards frame i (0: the first after the HTTP response).
func forwardMessagesGated(c io.Writer, s io.Reader, n int, before func(i int)) error {
	br := bufio.NewReader(s)
	if err := forwardUpgrade(c, br); err != nil {
		return err
	}
	frame := func() ([]byte, error) {
		h := make([]byte, 2)
		if _, err := io.ReadFull(br, h); err != nil {
			return nil, err
		}
		n := uint64(h[1] & 0x7f) // server frames are not masked
		switch n {
		case 126:
			x := make([]byte, 2)
			if _, err := io.ReadFull(br, x); err != nil {
				return nil, err
			}
			h, n = append(h, x...), uint64(binary.BigEndian.Uint16(x))
		case 127:
			x := make([]byte, 8)
			if _, err := io.ReadFull(br, x); err != nil {
				return nil, err
			}
			h, n = append(h, x...), binary.BigEndian.Uint64(x)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		return append(h, body...), nil
	}
	for i := range n {
		f, err := frame()
		if err != nil {
			return err
		}
		if before != nil {
			before(i)
		}
		if _, err := c.Write(f); err != nil {
			return err
		}
	}
	_, err := br.Peek(1) // the next message is on its way: drop it
	return err
}

// TestLostAckKeepsRefusal: the Ack of a push that held a refused change is
// lost. On reconnecting the agent learns only that the server holds the
// batch (Welcome.PushedSeq); it pushes those changes again for their
// results, the server answers the refused one with its refusal again, and
// the change ends in `rejected` with its reason — not silently dropped.
func TestLostAckKeepsRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, tok := realAgent(t, ts, ts.TeamA)
	ok, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Trong địa bàn"})
	require.NoError(t, err)
	// A stale scope (the team lost a hamlet): the laptop still accepts a
	// write there, and the server refuses it.
	e, err := a.Enrollment(ctx)
	require.NoError(t, err)
	e.Scope = append(e.Scope, agent.Hamlet{Code: ts.HamletsB[0]})
	require.NoError(t, a.SetEnrollment(ctx, e))
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsB[0], "head_name": "Ngoài địa bàn"})
	require.NoError(t, err)
	pending, err := a.Pending(ctx)
	require.NoError(t, err)

	proxy, dropped := ackDropProxy(t, ts.URL[len("http://"):])
	s, err := a.Sync(ctx, proxy, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.EqualValues(t, 1, dropped.Load(), "the first session's Ack was dropped")
	if err != nil { // Sync retries on a fresh connection; if not, sync again
		s, err = a.Sync(ctx, proxy, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	}
	require.NoError(t, err)
	require.NotZero(t, s.Rejected)

	left, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej, "the refusal survived the lost Ack")
	for _, x := range rej {
		require.Equal(t, "out_of_scope", x.Code)
		require.Equal(t, ts.HamletsB[0], x.Hamlet)
		require.NotEmpty(t, x.Text("vi"))
	}
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, len(rej), st.Rejected)
	require.Less(t, len(rej), pending, "the household in scope was applied")

	// The server holds each change once; a fresh clone sees the household
	// in scope and not the refused one.
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	_, err = b.Show(ctx, "households", ok.String())
	require.NoError(t, err)
	hs, err := b.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, hs, 1)
}

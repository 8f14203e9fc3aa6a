package agent_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// recordingConn keeps what the agent writes on its connection.
type recordingConn struct {
	net.Conn
	mu  *sync.Mutex
	out *bytes.Buffer
}

func (c recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// clientMessage is the first frame of a WebSocket message the agent sent.
type clientMessage struct {
	compressed bool // RSV1: permessage-deflate
	whole      bool // FIN: one frame
	size       int  // the frame's payload, as sent
}

// clientMessages reads the data messages out of what an agent wrote on one
// connection: its HTTP upgrade request, then masked frames.
func clientMessages(t *testing.T, b []byte) []clientMessage {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	require.Positive(t, i)
	b = b[i+4:]
	var ms []clientMessage
	for len(b) > 0 {
		require.GreaterOrEqual(t, len(b), 2)
		op, n, h := b[0]&0x0f, uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		require.NotZero(t, b[1]&0x80, "a client frame is masked")
		h += 4
		if op == 2 { // a binary message's first frame
			ms = append(ms, clientMessage{compressed: b[0]&0x40 != 0, whole: b[0]&0x80 != 0, size: int(n)})
		}
		b = b[h+int(n):]
	}
	return ms
}

// TestSmallMessagesGoUncompressed, against the real server: the agent
// deflates a message only above 1 KB, as the server does. A no-op sync
// then never builds the compressor (~1 MB of tables, a good part of its
// time: issue 20), while a push of many records still goes compressed.
func TestSmallMessagesGoUncompressed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	r, tok := realAgent(t, ts, ts.TeamA)
	var mu sync.Mutex
	var conns []*bytes.Buffer
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, &bytes.Buffer{})
		return recordingConn{Conn: c, mu: &mu, out: conns[len(conns)-1]}, nil
	}}
	sent := func() []clientMessage {
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, conns, 1, "one connection a sync")
		ms := clientMessages(t, conns[0].Bytes())
		conns = nil
		return ms
	}
	for i := 0; i < 300; i++ {
		_, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "address": "Số " + itoa(i) + ", khóm 1"})
		require.NoError(t, err)
	}
	pending, err := r.Pending(ctx)
	require.NoError(t, err)
	s, err := r.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	require.Equal(t, pending, s.Pushed)
	push := sent()
	require.False(t, push[0].compressed, "the Hello went compressed: %+v", push[0])
	compressed := 0
	for _, m := range push {
		if m.compressed {
			compressed++
			continue
		}
		require.True(t, m.whole, "%+v", m)
		require.LessOrEqual(t, m.size, 1024, "a message above 1 KB went uncompressed: %+v", m)
	}
	require.Positive(t, compressed, "the push of 300 households went compressed")

	_, err = r.Sync(ctx, ts.URL, tok, opts)
	require.NoError(t, err)
	for _, m := range sent() {
		require.False(t, m.compressed, "a no-op sync compressed a message: %+v", m)
	}
}

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
	"github.com/hamlet-vn/hamlet/internal/framezstd"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// readingConn keeps what the agent reads on its connection; hide renames
// the agent's zstd offer on the way out (same length), as a server that
// does not know it would ignore it.
type readingConn struct {
	net.Conn
	mu   *sync.Mutex
	in   *bytes.Buffer
	hide bool
}

func (c readingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c readingConn) Write(p []byte) (int, error) {
	if c.hide {
		p = bytes.Replace(p, []byte(framezstd.Header+":"), []byte("X-Hamlet-Frame-Encodin:"), 1)
	}
	return c.Conn.Write(p)
}

// serverMessage is the first frame of a WebSocket message the server sent.
type serverMessage struct {
	deflated bool // RSV1: permessage-deflate
	zstd     bool // the payload is a zstd frame
	size     int
}

// serverMessages reads the answer to the upgrade and the data messages out
// of what the agent read on one connection (unmasked frames).
func serverMessages(t *testing.T, b []byte) (string, []serverMessage) {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	require.Positive(t, i)
	head := string(b[:i])
	b = b[i+4:]
	var ms []serverMessage
	for len(b) >= 2 {
		op, n, h := b[0]&0x0f, uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		if len(b) < h+int(n) {
			break // the connection's last bytes, cut by its close
		}
		if op == 2 {
			ms = append(ms, serverMessage{deflated: b[0]&0x40 != 0, zstd: framezstd.Is(b[h : h+int(n)]), size: int(n)})
		}
		b = b[h+int(n):]
	}
	return head, ms
}

// TestServerFramesZstdWhenOffered: an agent offers zstd frames at the
// upgrade, and the real server sends its large frames (here a clone's
// chunks) as zstd, not deflated (docs/PROTOCOL.md §2.2, issue 20). A
// server that did not see the offer (an older server, which ignores the
// header; or an older agent, which never sends it) deflates them as
// before, and the clone is the same.
func TestServerFramesZstdWhenOffered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		hide bool
	}{{"offered", false}, {"not seen by the server", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			a, tokA := realAgent(t, ts, ts.TeamA)
			for i := 0; i < 300; i++ {
				_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "address": "Số " + itoa(i) + ", khóm 1"})
				require.NoError(t, err)
			}
			realSync(t, a, ts, tokA)

			b, tokB := realAgent(t, ts, ts.TeamA)
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
				return readingConn{Conn: c, mu: &mu, in: conns[len(conns)-1], hide: tc.hide}, nil
			}}
			s, err := b.Sync(ctx, ts.URL, tokB, opts)
			require.NoError(t, err)
			require.Equal(t, 300, s.Cloned)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, conns, 1)
			head, ms := serverMessages(t, conns[0].Bytes())
			zstd, deflated := 0, 0
			for _, m := range ms {
				switch {
				case m.zstd:
					require.False(t, m.deflated, "a zstd frame deflated again: %+v", m)
					zstd++
				case m.deflated:
					deflated++
				default:
					require.LessOrEqual(t, m.size, 1024, "a message above 1 KB went uncompressed: %+v", m)
				}
			}
			if tc.hide {
				require.NotContains(t, head, framezstd.Header)
				require.Zero(t, zstd, "zstd frames to an agent the server did not see offer them")
				require.Positive(t, deflated, "the clone's chunks went deflated")
				return
			}
			require.Contains(t, head, framezstd.Header+": "+framezstd.Token)
			require.Positive(t, zstd, "the clone's chunks went as zstd")
			require.Zero(t, deflated, "a frame deflated to an agent that takes zstd")
		})
	}
}

package agent_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/framezstd"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// syncAgainst syncs a real agent, enrolled with a real server, whose
// server address leads to another that answers the upgrade (offering zstd
// frames) with what send writes: a broken or hostile server, or anyone on
// the path of an http:// address. It returns the bytes the process allocated
// meanwhile and the sync's error.
func syncAgainst(t *testing.T, send func(c *websocket.Conn)) (uint64, error) {
	t.Helper()
	ts := servertest.Start(t)
	r, tok := realAgent(t, ts, ts.TeamA)
	up := websocket.Upgrader{EnableCompression: true}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := up.Upgrade(w, req, http.Header{framezstd.Header: {framezstd.Token}})
		if err != nil {
			return
		}
		defer c.Close()
		send(c)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer bad.Close()
	addr := bad.Listener.Addr().String()
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.Sync(context.Background(), ts.URL, tok, opts)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// TestOversizedServerMessageRefusedBeforeRead: a server answers the
// upgrade with one message that inflates far past MaxFrame
// (docs/PROTOCOL.md §10: the limits apply to the decompressed message): 64
// MiB of zeros, some 64 KiB on the wire, deflated or as a zstd frame; or
// one over the read limit as it is. The agent refuses it as too large (a
// protocol error, not a network that dropped, which the volunteer would be
// told to retry), without reading it whole into memory first: a 4 MiB
// deflated message inflates to some 4 GiB, the laptop's memory.
func TestOversizedServerMessageRefusedBeforeRead(t *testing.T) {
	body := make([]byte, 64<<20)
	body[0] = 0x93 // a msgpack array, as a message starts
	zstdBody := framezstd.Compress(nil, body)
	raw := make([]byte, 5<<20) // does not compress
	_, _ = rand.Read(raw)
	raw[0] = 0x93
	for _, tc := range []struct {
		name string
		send func(c *websocket.Conn)
	}{
		{"deflated", func(c *websocket.Conn) {
			c.EnableWriteCompression(true)
			_ = c.SetCompressionLevel(flate.BestSpeed)
			_ = c.WriteMessage(websocket.BinaryMessage, body)
		}},
		{"zstd frame", func(c *websocket.Conn) { _ = c.WriteMessage(websocket.BinaryMessage, zstdBody) }},
		{"over the read limit on the wire", func(c *websocket.Conn) { _ = c.WriteMessage(websocket.BinaryMessage, raw) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocated, err := syncAgainst(t, tc.send)
			var pe *syncproto.Error
			require.True(t, errors.As(err, &pe), "want a protocol error, got %v", err)
			require.Equal(t, syncproto.CodeTooLarge, pe.Code, "%v", err)
			require.Less(t, allocated, uint64(24<<20), "the agent allocated %d MiB for a message it refuses", allocated>>20)
			serverSentUnreadable(t, err)
		})
	}
}

// TestMalformedZstdFrameRefused: a message that starts as a zstd frame and
// is not a whole one, or holds no message, ends the sync with bad_frame (the
// volunteer is told the server sent data it cannot read), without a panic or a wait.
func TestMalformedZstdFrameRefused(t *testing.T) {
	msg := append([]byte{0x93}, bytes.Repeat([]byte("hộ gia đình ấp Tân Lợi "), 200)...)
	whole := framezstd.Compress(nil, msg)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"magic number only", whole[:4]},
		{"cut", whole[:len(whole)/2]},
		{"a byte changed", append(append([]byte{}, whole[:len(whole)-8]...), whole[len(whole)-8]^0xff)},
		{"trailing bytes", append(append([]byte{}, whole...), 1, 2, 3)},
		{"not a message inside", framezstd.Compress(nil, bytes.Repeat([]byte{0xc1}, 2000))},
		{"a zstd frame inside", framezstd.Compress(nil, whole)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := syncAgainst(t, func(c *websocket.Conn) { _ = c.WriteMessage(websocket.BinaryMessage, tc.frame) })
			var pe *syncproto.Error
			require.True(t, errors.As(err, &pe), "want a protocol error, got %v", err)
			require.Equal(t, syncproto.CodeBadFrame, pe.Code, "%v", err)
			serverSentUnreadable(t, err)
		})
	}
}

// serverSentUnreadable: what the volunteer reads when the agent refused
// the server's message says so, not that what this laptop sent was broken
// (the hint of the server refusing the agent's message), and what to do.
func serverSentUnreadable(t *testing.T, err error) {
	t.Helper()
	vi, en := agent.MessageOf(err, "vi"), agent.MessageOf(err, "en")
	require.Contains(t, vi, "Máy chủ gửi về dữ liệu", vi)
	require.Contains(t, vi, "báo cán bộ CNTT", vi)
	require.NotContains(t, vi, "Dữ liệu gửi đi bị hỏng", vi)
	require.Contains(t, en, "The server sent data", en)
	require.NotContains(t, en, "The message was malformed", en)
}

// TestZstdMessageOfManyFramesRefusedAtOnce: a message is one zstd frame
// (docs/PROTOCOL.md §2.2). A server that sends 4 MiB of tiny frames one
// after the other, each holding a few bytes (some kilobytes on the wire,
// deflated), made the agent's decoder grow its output one frame at a time,
// copying all of it each time: minutes of a laptop's CPU and hundreds of
// gigabytes allocated for one message, the sync (and any other connection
// of the process, which shares the decoder) held meanwhile. The agent
// refuses it as malformed at once.
func TestZstdMessageOfManyFramesRefusedAtOnce(t *testing.T) {
	tiny := func(n int) []byte { // a frame of n bytes 'x': header, one RLE block
		b := 1 | 1<<1 | n<<3
		return []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, byte(n), byte(b), byte(b >> 8), byte(b >> 16), 'x'}
	}
	for _, tc := range []struct {
		name string
		n    int // bytes in each frame
	}{{"frames of 4 bytes", 4}, {"empty frames", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var msg []byte
			for len(msg) < 4<<20 {
				msg = append(msg, tiny(tc.n)...)
			}
			start := time.Now()
			allocated, err := syncAgainst(t, func(c *websocket.Conn) {
				c.EnableWriteCompression(true) // a few KiB on the wire
				_ = c.WriteMessage(websocket.BinaryMessage, msg)
			})
			took := time.Since(start)
			t.Logf("%v after %v, %d MiB allocated", err, took, allocated>>20)
			var pe *syncproto.Error
			require.True(t, errors.As(err, &pe), "want a protocol error, got %v", err)
			require.Equal(t, syncproto.CodeBadFrame, pe.Code, "%v", err)
			require.Less(t, took, 5*time.Second, "the agent spent %v on one message", took)
			require.Less(t, allocated, uint64(64<<20), "the agent allocated %d MiB for one message", allocated>>20)
		})
	}
}

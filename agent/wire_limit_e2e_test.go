package agent_test

import (
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

// TestOversizedServerMessageRefusedBeforeRead: a server (a broken or
// hostile one, or one on the path of an http:// address) answers the
// upgrade with one message that inflates far past MaxFrame (docs/PROTOCOL.md
// §10: the limits apply to the decompressed message): 64 MiB of zeros,
// some 64 KiB on the wire, deflated or as a zstd frame; or one over the
// read limit as it is. The agent refuses it as too large (a protocol
// error, not a network that dropped, which the volunteer would be told to
// retry), without reading it whole into memory first: a 4 MiB deflated
// message inflates to some 4 GiB, the laptop's memory.
func TestOversizedServerMessageRefusedBeforeRead(t *testing.T) {
	const size = 64 << 20
	for _, tc := range []struct {
		name string
		zstd bool
		raw  bool // 5 MiB that do not compress, sent as they are
	}{{"deflated", false, false}, {"zstd frame", true, false}, {"over the read limit on the wire", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t)
			r, tok := realAgent(t, ts, ts.TeamA)

			body := make([]byte, size)
			body[0] = 0x93 // a msgpack array, as a message starts
			var frame []byte
			switch {
			case tc.zstd:
				frame = framezstd.Compress(nil, body)
			case tc.raw:
				frame = make([]byte, 5<<20)
				_, _ = rand.Read(frame)
				frame[0] = 0x93
			}
			up := websocket.Upgrader{EnableCompression: true}
			bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				c, err := up.Upgrade(w, req, http.Header{framezstd.Header: {framezstd.Token}})
				if err != nil {
					return
				}
				defer c.Close()
				if frame != nil {
					_ = c.WriteMessage(websocket.BinaryMessage, frame)
				} else {
					c.EnableWriteCompression(true)
					_ = c.SetCompressionLevel(flate.BestSpeed)
					_ = c.WriteMessage(websocket.BinaryMessage, body)
				}
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}))
			defer bad.Close()
			addr := bad.Listener.Addr().String()
			opts := agent.SyncOptions{IOTimeout: 10 * time.Second, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr) // the server's address leads to the bad one
			}}

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Sync(context.Background(), ts.URL, tok, opts)
			runtime.ReadMemStats(&after)
			var pe *syncproto.Error
			require.True(t, errors.As(err, &pe), "want a protocol error, got %v", err)
			require.Equal(t, syncproto.CodeTooLarge, pe.Code, "%v", err)
			allocated := after.TotalAlloc - before.TotalAlloc
			require.Less(t, allocated, uint64(24<<20), "the agent allocated %d MiB for a message it refuses", allocated>>20)
		})
	}
}

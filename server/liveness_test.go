package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// agents is the number of open sync sessions, from /healthz.
func agents(t *testing.T, ts *servertest.TS) int {
	t.Helper()
	resp, err := http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var h struct {
		Agents int `json:"agents"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return h.Agents
}

// waitAgents polls until n sessions are open and returns when that was seen.
func waitAgents(t *testing.T, ts *servertest.TS, n int, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if agents(t, ts) == n {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d sessions after %v, want %d", agents(t, ts), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeepAliveDefaultsMatchProtocol(t *testing.T) {
	ts := servertest.Start(t)
	cfg := ts.Server.Config()
	require.Equal(t, 30*time.Second, cfg.PingInterval, "PROTOCOL.md §2.2: ping every 30 s")
	require.Equal(t, 60*time.Second, cfg.PongWait, "PROTOCOL.md §2.2: drop after 60 s without a frame or pong")
}

// A peer that stops answering (no frame, no pong) is dropped once PongWait
// has passed since the last thing it sent, and not before; a peer that
// answers pings stays however long it is idle.
func TestDeadPeerIsDroppedWithinPongWait(t *testing.T) {
	const ping, pong = 100 * time.Millisecond, 500 * time.Millisecond
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.PingInterval, c.PongWait = ping, pong }))

	live := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	go func() {
		for { // reading answers pings (gorilla's default ping handler)
			if _, _, err := live.WS.ReadMessage(); err != nil {
				return
			}
		}
	}()
	dead := ts.Connect(t, ts.NewDevice(t, ts.TeamA)) // Hello, then silence: never reads, so never pongs
	last := time.Now()
	require.Equal(t, 2, agents(t, ts))

	gone := waitAgents(t, ts, 1, pong+3*time.Second)
	el := gone.Sub(last)
	t.Logf("dead peer dropped %v after its last frame (PongWait %v)", el.Round(time.Millisecond), pong)
	require.GreaterOrEqual(t, el, pong-50*time.Millisecond, "dropped before PongWait")
	require.Less(t, el, pong+2*time.Second)

	// The answering peer outlived several PongWaits, idle.
	time.Sleep(3 * pong)
	require.Equal(t, 1, agents(t, ts))
	_ = dead
}

// An agent that sends pulls and never reads the answers fills its bounded
// send queue and is disconnected; the server does not buffer its answers
// (heap stays flat) and another agent is served meanwhile.
func TestSlowReaderIsDisconnectedAndBounded(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.SendQueue, c.WriteWait = 4, 2*time.Second
	}))
	hamlet := ts.HamletsA[0]

	// Enough log that each answer is a full page (about 60 KB).
	writer := ts.NewDevice(t, ts.TeamA)
	wc := ts.Connect(t, writer)
	cs := servertest.HouseholdChanges(servertest.NewWriter(writer.Replica, nil), hamlet, 3000)
	for i, b := 0, uint64(1); i < len(cs); i, b = i+1000, b+1 {
		_, err := wc.Push(b, cs[i:i+1000])
		require.NoError(t, err)
	}

	healthy := ts.Connect(t, ts.NewDevice(t, ts.TeamA))

	// The slow reader: no compression, a tiny receive buffer.
	slowDev := ts.NewDevice(t, ts.TeamA)
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	ws, _, err := d.Dial(servertest.SyncURL(ts.URL), http.Header{"Authorization": {"Bearer " + slowDev.Token}})
	require.NoError(t, err)
	slow := &servertest.Client{WS: ws, Limits: syncproto.DefaultLimits, Timeout: 10 * time.Second}
	t.Cleanup(func() { slow.Close() })
	_, err = slow.Hello(slowDev.Replica)
	require.NoError(t, err)
	require.Equal(t, 3, agents(t, ts))

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// 2,000 pulls of about 60 KB each would be 120 MB if buffered.
	sent := 0
	for ; sent < 2000; sent++ {
		if err := slow.Send(&syncproto.Pull{Cursor: 0, Limit: 1000}); err != nil {
			break // the server closed it
		}
	}
	waitAgents(t, ts, 2, 15*time.Second)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("slow reader sent %d pulls before being dropped; server heap grew %d KB", sent, grew/1024)
	require.Less(t, grew, int64(32<<20), "the server buffered a slow reader's answers")

	// The other agent was not affected: a round trip is quick.
	start := time.Now()
	w := servertest.NewWriter(healthy.Replica, nil)
	ack, err := healthy.Push(1, w.Household(uuid.New(), hamlet, "Hộ thử"))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	_, _, _, err = healthy.PullAll(0)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 5*time.Second)
}

// `hamlet-server device revoke` runs in another process: it opens the data
// directory and revokes in the database. The running server notices within
// RevokeCheck and closes the session with token_revoked.
func TestRevokeByAnotherProcessClosesSession(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = 100 * time.Millisecond }))
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	other := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	go func() {
		for {
			if _, _, err := other.WS.ReadMessage(); err != nil {
				return
			}
		}
	}()

	// What the CLI does: its own Server on the same data directory.
	ctx := context.Background()
	cli, err := servertest.Open(ctx, ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1, RevokeCheck: -1})
	require.NoError(t, err)
	revokedAt := time.Now()
	require.NoError(t, cli.Admin().RevokeDevice(ctx, dev.Enroll.DeviceID))
	require.NoError(t, cli.Close())

	c.Timeout = 5 * time.Second
	m, err := c.RecvAnswer()
	require.Error(t, err)
	em, ok := m.(*syncproto.ErrorMsg)
	require.True(t, ok, "got %v", err)
	require.Equal(t, syncproto.CodeTokenRevoked, em.Code)
	require.True(t, em.Fatal)
	t.Logf("session closed %v after the revocation", time.Since(revokedAt).Round(time.Millisecond))
	waitAgents(t, ts, 1, 2*time.Second) // the other device stays

	// And it cannot come back.
	_, status, eb, err := servertest.Dial(ctx, ts.URL, dev.Token)
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, syncproto.CodeTokenRevoked, eb.Error.Code)
}

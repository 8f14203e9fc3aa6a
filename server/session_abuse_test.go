package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// sendHello sends Hello without reading the answer.
func sendHello(t *testing.T, c *servertest.Client, replica syncproto.ReplicaID) {
	t.Helper()
	require.NoError(t, c.Send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: schema.Version, Replica: replica,
		Client: "servertest", SentAt: time.Now().UnixMilli()}))
}

// newHousehold is the changes of a new household the server accepts.
func newHousehold(w *servertest.Writer, hamlet string) []syncproto.Change {
	row := uuid.New()
	return []syncproto.Change{w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		w.Write("households", row, "head_name", syncproto.String("Hộ "+row.String()[:8]), hamlet)}
}

// closeCode reads until the server closes the socket and returns the
// close frame's code and text, skipping any messages before it.
func closeCode(t *testing.T, c *servertest.Client) (int, string, []syncproto.Message) {
	t.Helper()
	var got []syncproto.Message
	for {
		m, err := c.Recv()
		if err == nil {
			got = append(got, m)
			continue
		}
		var ce *websocket.CloseError
		require.True(t, errors.As(err, &ce), "want a close frame, got %v", err)
		return ce.Code, ce.Text, got
	}
}

// A commit in the device's scope between the upgrade and Hello must not
// put a Notify ahead of Welcome: the agent reads Welcome first and took the
// Notify for "A message arrived out of order" (issue 14.7: after a crash
// mid-push the killed session's batch commits just as the new one starts).
func TestWelcomeComesFirst(t *testing.T) {
	ts := servertest.Start(t)
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, _, _, err := servertest.Dial(context.Background(), ts.URL, devA.Token)
	require.NoError(t, err)
	defer a.Close()
	b := ts.Connect(t, devB)
	w := servertest.NewWriter(devB.Replica, nil)
	h := ts.HamletsA[0]
	ack, err := b.Push(1, newHousehold(w, h))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)

	sendHello(t, a, devA.Replica)
	m, err := a.Recv()
	require.NoError(t, err)
	require.IsType(t, &syncproto.Welcome{}, m, "the first message of a session is Welcome (PROTOCOL.md §7.1)")
	require.NotZero(t, m.(*syncproto.Welcome).Cursor, "Welcome's cursor covers the commit")
}

// One device holds one session: a new one replaces the older, which is
// told why (a fatal session_replaced, then close code 4000), so a token
// cannot hold many sessions, and a crashed agent's session cannot outlive
// its next start.
func TestNewSessionReplacesTheOlder(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	ctx := context.Background()

	old := ts.Connect(t, dev)
	var idle []*servertest.Client // never say Hello
	for range 20 {
		c, _, _, err := servertest.Dial(ctx, ts.URL, dev.Token)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		idle = append(idle, c)
	}
	code, text, msgs := closeCode(t, old)
	require.Equal(t, syncproto.CloseReplaced, code)
	require.Equal(t, string(syncproto.CodeSessionReplaced), text)
	require.NotEmpty(t, msgs)
	em, ok := msgs[len(msgs)-1].(*syncproto.ErrorMsg)
	require.True(t, ok, "the last message before the close is the reason: %v", msgs)
	require.Equal(t, syncproto.CodeSessionReplaced, em.Code)
	require.True(t, em.Fatal)
	for _, c := range idle[:len(idle)-1] {
		code, _, _ := closeCode(t, c)
		require.Equal(t, syncproto.CloseReplaced, code)
	}
	waitAgents(t, ts, 1, 10*time.Second)

	// The newest session works.
	last := idle[len(idle)-1]
	_, err := last.Hello(dev.Replica)
	require.NoError(t, err)
	w := servertest.NewWriter(dev.Replica, nil)
	h := ts.HamletsA[0]
	ack, err := last.Push(1, newHousehold(w, h))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)

	// Other devices are not affected.
	other := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	_, err = other.Pull(0, 0)
	require.NoError(t, err)
	waitAgents(t, ts, 2, 10*time.Second)
}

// A connection that never says Hello is closed after HelloWait (close code
// 4001), not held until the keep-alive gives up.
func TestNoHelloIsClosed(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.HelloWait = 300 * time.Millisecond }))
	dev := ts.NewDevice(t, ts.TeamA)
	c, _, _, err := servertest.Dial(context.Background(), ts.URL, dev.Token)
	require.NoError(t, err)
	defer c.Close()
	c.Timeout = 20 * time.Second // well under PongWait (60 s): the close is the HelloWait's
	code, _, _ := closeCode(t, c)
	require.Equal(t, syncproto.CloseNoHello, code)
	waitAgents(t, ts, 0, 10*time.Second)

	// A session that says Hello in time stays.
	ok := ts.Connect(t, dev)
	time.Sleep(600 * time.Millisecond) // past HelloWait: nothing may close it
	_, err = ok.Pull(0, 0)
	require.NoError(t, err)
}

package agent_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// welcomeHoldProxy forwards TCP to target. On its first connection it
// passes the HTTP upgrade, then holds the server's bytes from its first
// message (the Welcome) on: held is closed once that message has begun to
// arrive (the server has answered Hello, PushedSeq read), and the bytes
// flow on when release is closed. The client's bytes always pass; later
// connections pass untouched.
func welcomeHoldProxy(t *testing.T, target string) (url string, held, release chan struct{}) {
	held, release = make(chan struct{}), make(chan struct{})
	url, _ = faultProxy(t, target, func(c, s net.Conn, fired func()) {
		go func() { io.Copy(s, c); s.Close() }()
		br := bufio.NewReader(s)
		if forwardUpgrade(c, br) != nil {
			return
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		fired()
		close(held)
		<-release
		io.Copy(c, br)
		c.Close()
	})
	return url, held, release
}

// TestTwoHandlesAckBetweenHelloAndWelcome: the volunteer's app and
// `hamlet-agent sync` sync the same data folder at once. The CLI's Hello is
// answered (the server reads PushedSeq then); before its Welcome reaches
// the CLI, the app's session (which replaces the CLI's on the server, one
// session per device) pushes the change the CLI wrote and gets its Ack,
// raising the file's acknowledged sequence above that PushedSeq. The CLI
// took that for a server that lost acknowledged changes (resendLost): it
// queued them again, forked the replica (a new id, device and token) and
// told the volunteer the server had lost his work; the app, its token
// replaced, was then refused as an unknown device (CI's
// TestStaleWALRestoredWhileAppOpen, 401). Nothing was lost: no fork, no
// change sent again, each change on the server once under the old id.
func TestTwoHandlesAckBetweenHelloAndWelcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	app, tok := realAgent(t, ts, ts.TeamA)
	cli := agenttest.Open(t, app.Path()) // the CLI's handle on the app's file
	id := app.ID()
	h0 := ts.HamletsA[0]

	first, err := app.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ thứ nhất"})
	require.NoError(t, err)
	realSync(t, app, ts, tok) // acknowledged: the file's acked_seq is set

	// `hamlet-agent household add`, then `hamlet-agent sync`.
	second, err := cli.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ thứ hai"})
	require.NoError(t, err)
	proxy, held, release := welcomeHoldProxy(t, ts.URL[len("http://"):])
	type result struct {
		sum agent.SyncSummary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := cli.Sync(ctx, proxy, tok, agent.SyncOptions{IOTimeout: 30 * time.Second})
		done <- result{sum, err}
	}()
	select {
	case <-held:
	case <-time.After(2 * time.Minute): // a bound on a hang, not a timing
		close(release)
		t.Fatal("the CLI's Hello was never answered")
	}
	// The app's background sync, while the CLI's Welcome is on its way:
	// the app looked at the sync lock just before the CLI took it
	// (synclock.go).
	sa, err := app.SyncUnlocked(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Positive(t, sa.Pushed, "the app pushed the CLI's household and had its Ack")
	close(release)
	res := <-done
	t.Logf("the CLI's sync: pushed %d, sent again %d, fork %+v, err %v", res.sum.Pushed, res.sum.Resent, res.sum.Fork, res.err)
	require.NoError(t, res.err, "the CLI's sync")
	require.Nil(t, res.sum.Fork, "the CLI's sync forked the replica")
	require.Zero(t, res.sum.Resent, "the CLI's sync said the server lost changes and sent them again")

	for name, r := range map[string]*agent.Replica{"app": app, "cli": cli, "reopened": agenttest.Open(t, app.Path())} {
		require.Equal(t, id, r.ID(), "%s: the replica id", name)
		n, err := r.Pending(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "%s: nothing is queued again", name)
	}
	// Both handles sync on with the device's token, as they did.
	for name, r := range map[string]*agent.Replica{"app": app, "cli": cli} {
		sum, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 30 * time.Second})
		require.NoError(t, err, "%s: a later sync", name)
		require.Nil(t, sum.Fork, "%s: a later sync forked", name)
		require.Zero(t, sum.Resent, "%s: a later sync sent changes again", name)
	}

	// The server's log holds each field written once, under the old id.
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	log, _, _, err := c.PullAll(0)
	require.NoError(t, err)
	seen := map[syncproto.FieldKey]int{}
	rows := map[syncproto.RowID]bool{}
	for _, ch := range log {
		require.Equal(t, id, ch.Dot.Replica, "a change in the server's log under another id: %+v", ch)
		seen[syncproto.FieldKey{Table: ch.Table, Row: ch.Row, Field: ch.Field}]++
		rows[ch.Row] = true
	}
	for k, n := range seen {
		require.Equal(t, 1, n, "field %v is in the server's log %d times", k, n)
	}
	require.Equal(t, map[syncproto.RowID]bool{first: true, second: true}, rows, "the households on the server")
}

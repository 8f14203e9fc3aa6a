package pgstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A laptop whose agent crashed on process A (A still holds that session:
// its socket is half-open) syncs again through process B while other
// laptops' commits reach B through the commit feed. B's session starts
// with Welcome, never a Notify (issue 14.7), and pushes from the replica's
// PushedSeq. The older session on A is not replaced across processes: it
// ends when its socket does (keep-alive, PongWait) and cannot strand the
// device, since pushes are applied by sequence whichever process holds them.
func TestNewSessionOnAnotherProcess(t *testing.T) {
	household := func(w *servertest.Writer, h string) []syncproto.Change {
		row := uuid.New()
		return []syncproto.Change{w.Write("households", row, "hamlet_code", syncproto.String(h), h),
			w.Write("households", row, "head_name", syncproto.String("Hộ "+row.String()[:8]), h)}
	}
	a, b, _ := twoServers(t, nil)
	dev := a.NewDevice(t, a.TeamA)
	h := a.HamletsA[0]
	w := servertest.NewWriter(dev.Replica, nil)
	old := a.Connect(t, dev)
	ack, err := old.Push(1, household(w, h))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)

	fresh, _, _, err := servertest.Dial(ctx, b.URL, dev.Token)
	require.NoError(t, err)
	t.Cleanup(func() { fresh.Close() })
	// Another laptop's commit through A reaches B's sessions by the feed;
	// a greeted teammate on B hears of it, so B has handled it.
	mate := b.Connect(t, b.NewDevice(t, b.TeamA))
	other := a.NewDevice(t, a.TeamA)
	co := a.Connect(t, other)
	wo := servertest.NewWriter(other.Replica, nil)
	_, err = co.Push(1, household(wo, h))
	require.NoError(t, err)
	n, err := mate.WaitNotify(5 * time.Second)
	require.NoError(t, err)
	require.Positive(t, n)

	require.NoError(t, fresh.Send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: schema.Version, Replica: dev.Replica,
		Client: "servertest", SentAt: time.Now().UnixMilli()}))
	m, err := fresh.Recv()
	require.NoError(t, err)
	require.IsType(t, &syncproto.Welcome{}, m, "a session's first message is Welcome")
	wel := m.(*syncproto.Welcome)
	require.EqualValues(t, 2, wel.PushedSeq)
	require.GreaterOrEqual(t, wel.Cursor, n)
	fresh.Welcome, fresh.Replica = wel, dev.Replica
	ack, err = fresh.Push(1, household(w, h))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)
}

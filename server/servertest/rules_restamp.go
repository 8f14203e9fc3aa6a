package servertest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// RunLostAckRules is review 26 F3, on each store: a change the server
// restamped (its HLC too far ahead, PROTOCOL §7.4 rule 5), pushed again
// because its Ack was lost, is answered duplicate with the HLC the server
// gave it, so the client adopts it as it would have from the lost Ack
// (§8.6). That holds after another device has written over it too, when
// the change is no longer the row's current version. A change the server
// kept as stamped is a bare duplicate, as before.
func RunLostAckRules(t *testing.T, start StartFunc) {
	now := rulesClock()
	ts := start(t, func(c *server.Config) { c.Now = now })
	h := ts.HamletsA[0]
	devA := ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	wa := NewWriter(devA.Replica, now)
	row := uuid.New()
	created := wa.Household(row, h, "Đặng Văn E")
	_, err := a.Push(1, created)
	require.NoError(t, err)

	// O: an edit stamped an hour ahead (a clock set forward by hand).
	o := wa.Write("households", row, "phone", syncproto.String("0911111111"), h)
	o.HLC = syncproto.MakeHLC(now().Add(time.Hour).UnixMilli(), 0)
	kept := wa.Write("households", row, "notes", syncproto.String("ghi chú"), h)
	ack, err := a.Push(2, []syncproto.Change{o, kept})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	stamp := ack.Results[0].HLC
	require.NotZero(t, stamp, "an hour ahead: restamped")
	require.Less(t, stamp, o.HLC)
	require.Zero(t, ack.Results[1].HLC, "within the bound: kept as stamped")
	require.NoError(t, a.Close()) // as if the Ack never arrived

	// A team-mate pulls O and writes over it; the server installs that.
	b := newRuleClient(t, ts, ts.TeamA, now)
	cs, _, _, err := b.c.PullAll(0)
	require.NoError(t, err)
	for _, c := range cs {
		b.w.Saw(c)
	}
	x := b.w.Write("households", row, "phone", syncproto.String("0922222222"), h)
	require.Equal(t, o.Dot, x.Base, "X is based on O")
	require.Less(t, x.HLC, o.HLC, "X is stamped below O as A stamped it: A would keep O over X")
	require.Equal(t, syncproto.ResultApplied, b.push(x)[0].Status)

	// A pushes its unanswered batch again, on a new connection.
	a2 := ts.Connect(t, devA)
	require.Equal(t, kept.Dot.Seq, a2.Welcome.PushedSeq)
	again, err := a2.Push(1, []syncproto.Change{o, kept})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultDuplicate, again.Results[0].Status)
	require.Equal(t, stamp, again.Results[0].HLC,
		"the duplicate's result carries the stamp the server gave O (0 leaves the client with O an hour ahead, so it keeps O over X)")
	require.Equal(t, syncproto.ResultDuplicate, again.Results[1].Status)
	require.Zero(t, again.Results[1].HLC, "a change kept as stamped is a bare duplicate")

	// The log holds O at the same stamp: what every other device has.
	cs, _, _, err = b.c.PullAll(0)
	require.NoError(t, err)
	for _, c := range cs {
		if c.Dot == o.Dot {
			require.Equal(t, stamp, c.HLC, "the log holds O at the server's stamp")
		}
	}
}

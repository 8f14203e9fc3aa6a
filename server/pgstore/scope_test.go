package pgstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A team's hamlets changed through process B end that team's session on
// process A (its scope check), and the reconnect's Welcome carries the new
// scope; an edit pushed through A to a row moved through B is judged by
// the move recorded through B.
func TestScopeChangeAcrossProcesses(t *testing.T) {
	a, b, _ := twoServers(t, func(c *server.Config) { c.RevokeCheck = 50 * time.Millisecond })
	dev := a.NewDevice(t, a.TeamA)
	ca := a.Connect(t, dev)
	require.Equal(t, a.HamletsA, ca.Welcome.Scope)

	changed, err := b.Admin.AddTeamHamlet(ctx, a.TeamA, a.OtherHamletA)
	require.NoError(t, err)
	require.True(t, changed)
	m, err := ca.Recv()
	require.NoError(t, err)
	em, ok := m.(*syncproto.ErrorMsg)
	require.True(t, ok, "got %T", m)
	require.Equal(t, syncproto.CodeScopeChanged, em.Code)
	ca = a.Connect(t, dev)
	require.ElementsMatch(t, append([]string{a.OtherHamletA}, a.HamletsA...), ca.Welcome.Scope)

	// A household moved through B; an edit made before the move, pushed
	// through A, is accepted; one made after it is refused, naming it.
	from, to := a.HamletsA[0], a.HamletsB[0]
	w := servertest.NewWriter(dev.Replica, time.Now)
	hh := uuid.New()
	_, err = ca.Push(1, w.Household(hh, from, "Hộ thử"))
	require.NoError(t, err)
	before := w.Write("households", hh, "notes", syncproto.String("trước"), from)
	time.Sleep(3 * time.Millisecond)
	mover := b.Connect(t, b.NewDevice(t, a.TeamB)) // the receiving team
	mw := servertest.NewWriter(mover.Replica, time.Now)
	ack, err := mover.Push(1, []syncproto.Change{mw.Write("households", hh, schema.ScopeField, syncproto.String(to), from)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	time.Sleep(3 * time.Millisecond)
	after := w.Write("households", hh, "address", syncproto.String("sau"), from)
	ack, err = ca.Push(2, []syncproto.Change{before, after})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	require.Equal(t, syncproto.ResultRefused, ack.Results[1].Status)
	require.Equal(t, syncproto.CodeMovedOutOfScope, ack.Results[1].Code)
	require.Equal(t, refusal.Moved, ack.Results[1].Why.Key)
	require.Contains(t, refusal.Text(ack.Results[1].Code, ack.Results[1].Why, "en"), "moved from hamlet "+from+" to hamlet "+to)
}

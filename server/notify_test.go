package server_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A pull whose scopes did not change since its cursor is answered from
// memory (no store read) and still moves the cursor to the head; a pull
// whose scope changed reads the store and gets the change.
func TestIdlePullIsAnsweredFromMemory(t *testing.T) {
	ts := servertest.Start(t)
	devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamB)
	a, b := ts.Connect(t, devA), ts.Connect(t, devB)
	a2 := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	_, _, curB, err := b.PullAll(0)
	require.NoError(t, err)
	_, _, curA2, err := a2.PullAll(0)
	require.NoError(t, err)

	w := servertest.NewWriter(devA.Replica, nil)
	h := ts.HamletsA[0]
	row := uuid.New()
	_, err = a.Push(1, w.Household(row, h, "Hộ thử"))
	require.NoError(t, err)

	idle := servertest.Metric(t, ts.URL, "hamlet_pulls_unchanged_total")
	m, err := b.Pull(curB, 0) // team B's scope did not change
	require.NoError(t, err)
	require.Empty(t, m.Changes)
	require.False(t, m.More)
	require.Greater(t, m.To, curB, "the cursor moves past the other scope's entries")
	require.Equal(t, idle+1, servertest.Metric(t, ts.URL, "hamlet_pulls_unchanged_total"))

	cs, _, _, err := a2.PullAll(curA2) // team A's did
	require.NoError(t, err)
	require.Len(t, cs, 2) // the household's hamlet and head
	require.Equal(t, row, cs[0].Row)
	require.Equal(t, idle+1, servertest.Metric(t, ts.URL, "hamlet_pulls_unchanged_total"))
}

// At most one Notify is outstanding per session: commits after a Notify
// the agent has not pulled for send nothing more; its pull's answer lets
// the next one go.
func TestNotifyIsCoalescedUntilThePull(t *testing.T) {
	ts := servertest.Start(t)
	devA := ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	_, _, cur, err := b.PullAll(0)
	require.NoError(t, err)
	w := servertest.NewWriter(devA.Replica, nil)
	h := ts.HamletsA[0]
	push := func(batch uint64) {
		_, err := a.Push(batch, w.Household(uuid.New(), h, "Hộ thử"))
		require.NoError(t, err)
	}

	push(1)
	n1, err := b.WaitNotify(2 * time.Second)
	require.NoError(t, err)
	require.Positive(t, n1)
	push(2)
	push(3)
	// Nothing more until b pulls: the next frame b reads is its pull's answer.
	b.Notifies = 0
	cs, _, to, err := b.PullAll(cur)
	require.NoError(t, err)
	require.Len(t, cs, 6)
	require.Zero(t, b.Notifies, "a second Notify was sent before the pull")
	push(4)
	n2, err := b.WaitNotify(2 * time.Second)
	require.NoError(t, err)
	require.Greater(t, n2, to)
}

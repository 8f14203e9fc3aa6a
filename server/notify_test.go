package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
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

// Every synced write reaches the sessions holding its hamlet by a Notify
// once it is committed, whoever wrote it: a device's push, an import
// through the push path, a coordinator's report transition (the committer's
// one "commit, then notify"). The pushing device itself is not told.
func TestEverySyncedWriteNotifiesTheHamletsSessions(t *testing.T) {
	ts := servertest.Start(t)
	devA := ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	wA := servertest.NewWriter(devA.Replica, nil)
	h := ts.HamletsA[0]
	report := uuid.New()
	ack, err := a.Push(1, []syncproto.Change{
		wA.Write("field_reports", report, "hamlet_code", syncproto.String(h), h),
		wA.Write("field_reports", report, "volunteer_id", syncproto.String(uuid.NewString()), h),
		wA.Write("field_reports", report, "category", syncproto.String(schema.ReportCategories()[0].Code), h),
		wA.Write("field_reports", report, "description", syncproto.String("Đèn đường ấp 1 hỏng"), h),
	})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, "%+v", ack.Results[0])
	batch := uint64(1)
	imported := servertest.NewWriter(uuid.New(), nil)

	cases := []struct {
		name  string
		byA   bool // devA writes: its own session is not told
		write func(t *testing.T)
	}{
		{"a device's push", true, func(t *testing.T) {
			batch++
			_, err := a.Push(batch, wA.Household(uuid.New(), h, "Hộ thử"))
			require.NoError(t, err)
		}},
		{"an import", false, func(t *testing.T) {
			st, err := ts.Admin.ApplyChanges(context.Background(), imported.Replica, imported.Household(uuid.New(), h, "Hộ nhập"))
			require.NoError(t, err)
			require.Equal(t, 2, st.Applied)
		}},
		{"a report transition", false, func(t *testing.T) {
			_, err := ts.Server.Transition(context.Background(), report, server.TransitionRequest{To: string(schema.StatusDispatched), Agency: "Điện lực"})
			require.NoError(t, err)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
			other := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
			_, _, cur, err := b.PullAll(0)
			require.NoError(t, err)
			a.Notifies, other.Notifies = 0, 0
			tc.write(t)
			n, err := b.WaitNotify(5 * time.Second)
			require.NoError(t, err)
			require.Greater(t, n, cur)
			cs, _, _, err := b.PullAll(cur)
			require.NoError(t, err)
			require.NotEmpty(t, cs)
			// Another hamlet's session hears nothing, nor does the
			// writer's own: their next frame is the answer to their Pull.
			silent := []*servertest.Client{other}
			if tc.byA {
				silent = append(silent, a)
			} else {
				na, err := a.WaitNotify(5 * time.Second)
				require.NoError(t, err)
				require.Equal(t, n, na)
				_, _, _, err = a.PullAll(0) // lets its next Notify go
				require.NoError(t, err)
			}
			for _, c := range silent {
				_, err := c.Pull(n, 1)
				require.NoError(t, err)
				require.Zero(t, c.Notifies)
			}
		})
	}
}

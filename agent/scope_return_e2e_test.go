package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 17: a household this device wrote leaves its scope (its team
// loses the hamlet: the replica drops the row with its own writes), and
// another device moves it into a hamlet the device still covers. The row
// must come back whole, this device's own fields included: the pull that
// brings the move must not leave them out as "the device's own writes".
// Real server on loopback, real agent.
func TestScopeRowMovedBackBringsOwnWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": lost, "head_name": "Nguyễn Văn Hai", "members_count": int64(4)})
	require.NoError(t, err)
	tut, err := a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// The team loses the hamlet: the replica drops the household and its
	// tutoring record.
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	sum := realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, 2, sum.ScopeChange.Dropped)

	// Another device of the team moves the household into the hamlet the
	// team kept (a move is judged by the hamlet it goes to).
	mover := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	w := servertest.NewWriter(mover.Replica, time.Now)
	ack, err := mover.Push(1, []syncproto.Change{w.Write("households", hh, schema.ScopeField, syncproto.String(kept), lost)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)

	realSync(t, a, ts, ta)
	got, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, kept, got.Fields["hamlet_code"])
	require.Equal(t, "Nguyễn Văn Hai", got.Fields["head_name"], "this device's own fields come back with the row")
	require.EqualValues(t, 4, got.Fields["members_count"])
	kid, err := a.Show(ctx, "tutoring_records", tut.String())
	require.NoError(t, err)
	require.Equal(t, "independent", kid.Fields["outcome"], "and its child's")
	require.Equal(t, hh.String(), kid.Fields["household_id"])

	// A fresh replica of the team holds the same.
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	fresh, err := b.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, fresh.Fields, got.Fields)
}

// Issue 17 (simulation seed 538): a tutoring record's hamlet_code written
// with its household's old hamlet after the household moved (a copy of a
// data folder pushing its history again under a new replica id does this)
// won by its later stamp, while the server kept the record in the
// household's hamlet: replicas showed one hamlet, the server another.
// The record sits in its household's hamlet, on every replica.
func TestChildHamletFollowsHousehold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	from, to := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": from, "head_name": "Trần Văn Ba"})
	require.NoError(t, err)
	tut, err := a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": to}))
	realSync(t, a, ts, ta)
	kid, err := a.Show(ctx, "tutoring_records", tut.String())
	require.NoError(t, err)
	require.Equal(t, to, kid.Fields["hamlet_code"], "the record moved with its household")

	// Another device writes the record's old hamlet, stamped later.
	tick()
	dev := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	w := servertest.NewWriter(dev.Replica, time.Now)
	ack, err := dev.Push(1, []syncproto.Change{w.Write("tutoring_records", tut, schema.ScopeField, syncproto.String(from), to)})
	require.NoError(t, err)
	require.NotEqual(t, syncproto.ResultRefused, ack.Results[0].Status)

	realSync(t, a, ts, ta)
	kid, err = a.Show(ctx, "tutoring_records", tut.String())
	require.NoError(t, err)
	require.Equal(t, to, kid.Fields["hamlet_code"], "the record stays in its household's hamlet")
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	fresh, err := b.Show(ctx, "tutoring_records", tut.String())
	require.NoError(t, err)
	require.Equal(t, to, fresh.Fields["hamlet_code"], "a fresh clone too")
}

// Issue 17: an edit still waiting to be pushed when a pull drops its row
// (a watch session pulls on the server's notice without pushing first),
// pushed only after another device moved the row back into the team's
// hamlets. The server keeps the edit; the replica must show it too, not
// the value the move brought back.
// Real server on loopback, real agent in a watch session.
func TestScopeEditPendingWhileRowDroppedAndMovedBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, away := ts.HamletsA[0], ts.HamletsB[0]
	a, ta := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Phạm Văn Bốn", "notes": "trước"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// A watch session that never polls for local writes on its own: the
	// edit below waits while the server's notice of the move is pulled.
	wctx, stop := context.WithCancel(ctx)
	pulled := make(chan agent.SyncSummary, 16)
	done := make(chan error, 1)
	go func() {
		done <- a.Watch(wctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, PollInterval: time.Hour,
			OnSync: func(s agent.SyncSummary, err error) {
				if err == nil {
					pulled <- s
				}
			}})
	}()
	<-pulled // the session is open and idle
	tick()
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "sửa khi đang mở phiên"}))
	tick()
	moverB := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	wb := servertest.NewWriter(moverB.Replica, time.Now)
	ack, err := moverB.Push(1, []syncproto.Change{wb.Write("households", hh, schema.ScopeField, syncproto.String(away), home)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	for s := range pulled {
		if s.Evicted > 0 {
			break
		}
	}
	stop()
	require.NoError(t, <-done)
	_, err = a.Show(ctx, "households", hh.String())
	require.Error(t, err, "the pull dropped the moved household")
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the edit still waits to be pushed")

	// A device of team A moves it back (judged by the hamlet it goes to).
	tick()
	moverA := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	wa := servertest.NewWriter(moverA.Replica, time.Now)
	ack, err = moverA.Push(1, []syncproto.Change{wa.Write("households", hh, schema.ScopeField, syncproto.String(home), away)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)

	realSync(t, a, ts, ta)
	got, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, home, got.Fields["hamlet_code"])
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	fresh, err := b.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "sửa khi đang mở phiên", fresh.Fields["notes"], "the server kept the edit")
	require.Equal(t, fresh.Fields["notes"], got.Fields["notes"], "the laptop that made the edit shows it too")
	require.Equal(t, fresh.Fields, got.Fields)
}

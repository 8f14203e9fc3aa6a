package agent_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRestoredServerLostCoordinatorsDispatch: a coordinator dispatches a
// field report after a backup, and the reporter's laptop pulls it; the
// server is restored from the backup, which lost the dispatch, and nobody
// writes it again. The laptop replayed the restored log from the start
// (a new log epoch), but LWW kept the lost dispatch, later than what the
// log holds: the laptop showed "dispatched" for good where every other
// device shows "submitted".
func TestRestoredServerLostCoordinatorsDispatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, ta, id, restore := dispatchedAfterBackup(t)
	d, err := a.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	require.Equal(t, "dispatched", d.Fields["status"])

	ts2 := restore()
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	d, err = a.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	require.Equal(t, "submitted", d.Fields["status"], "the laptop holds the report as the restored server does")
	require.Empty(t, d.Fields["agency"])
	equalsFreshClone(t, ts2, ts2.TeamA, a)
}

// TestRestoredServerLostAnotherLaptopsEdit: B edits a household after a
// backup and syncs; A pulls the edit; the server is restored from the
// backup, and B never syncs again (lost, broken). A replayed the restored
// log, but kept B's edit, later than what the log holds, that no other
// device would ever hold.
func TestRestoredServerLostAnotherLaptopsEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta, b, tb, hh := householdOfTwoLaptops(t, ts)
	restore := backupNow(t, ts)
	teammatePhoneAfterBackup(t, ts, a, ta, b, tb, hh)

	ts2 := restore()
	for range 2 {
		realSync(t, a, ts2, ta)
	}
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Empty(t, d.Fields["phone"], "the laptop holds the household as the restored server does")
	equalsFreshClone(t, ts2, ts2.TeamA, a)
}

// TestRestoredServerLostAnEditItsAuthorSendsAgain: as above, but B syncs
// again after the restore, A before or after it: B sends its lost edit
// again under a fork's new replica id, same stamp and value. A held B's
// edit under its old dot, which the restored server does not hold: by the
// tie between the two dots it could stay on the old one (later edits then
// naming a base the server never held), and it listed B's edit as lost to
// its own copy. A must hold what a fresh clone holds, and its later edit
// of the field is written over B's, no conflict listed anywhere.
func TestRestoredServerLostAnEditItsAuthorSendsAgain(t *testing.T) {
	t.Parallel()
	for _, aFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "author first", true: "puller first"}[aFirst], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
			a, ta, b, tb, hh := householdOfTwoLaptops(t, ts)
			restore := backupNow(t, ts)
			teammatePhoneAfterBackup(t, ts, a, ta, b, tb, hh)

			ts2 := restore()
			if aFirst {
				realSync(t, a, ts2, ta)
			}
			var resent int
			for range 2 {
				resent += realSync(t, b, ts2, tb).Resent
			}
			require.Positive(t, resent, "B sent its lost edit again")
			for range 2 {
				realSync(t, a, ts2, ta)
			}
			d, err := a.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, "0911111111", d.Fields["phone"])
			equalsFreshClone(t, ts2, ts2.TeamA, a)

			clockPast(t, b, a)
			require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"phone": "0922222222"}))
			realSync(t, a, ts2, ta)
			realSync(t, b, ts2, tb)
			for _, r := range []*agent.Replica{a, b} {
				d, err := r.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				require.Equal(t, "0922222222", d.Fields["phone"])
				cs, err := r.Conflicts(ctx, true)
				require.NoError(t, err)
				require.Empty(t, cs, "no device lists B's lost edit as lost to its copy sent again, nor A's edit as concurrent")
				requireNoneRefused(t, r)
			}
			equalsFreshClone(t, ts2, ts2.TeamA, a)
		})
	}
}

// dispatchedAfterBackup: a laptop files a report and syncs, the server
// is backed up, and a coordinator then dispatches the report to "Điện
// lực", which the laptop pulls. restore starts the server from the backup.
func dispatchedAfterBackup(t *testing.T) (ts *servertest.TS, a *agent.Replica, ta string, id uuid.UUID, restore func() *servertest.TS) {
	t.Helper()
	ts = servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta, id = transReport(t, ts)
	restore = backupNow(t, ts)
	_, err := ts.Server.Transition(context.Background(), id, server.TransitionRequest{To: "dispatched", Agency: "Điện lực"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	return ts, a, ta, id, restore
}

// householdOfTwoLaptops: laptops a and b of team A both hold a household
// a added.
func householdOfTwoLaptops(t *testing.T, ts *servertest.TS) (a *agent.Replica, ta string, b *agent.Replica, tb string, hh uuid.UUID) {
	t.Helper()
	a, ta = realAgent(t, ts, ts.TeamA)
	b, tb = realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(context.Background(), agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ trước sao lưu"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	return a, ta, b, tb, hh
}

// teammatePhoneAfterBackup: b corrects the household's phone and syncs,
// and a pulls it, after the backup the server will be restored from.
func teammatePhoneAfterBackup(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, b *agent.Replica, tb string, hh uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	tick()
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"phone": "0911111111"}))
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "0911111111", d.Fields["phone"], "a pulled b's phone")
}

package agent_test

// followHouseholds (server/apply.go) against a server restored from a
// backup, and against edits made before the author's laptop pulled the
// eviction of the record it moved (helper 297).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// followSetupX: team B covers g and h, team A h only. Her laptop (team A)
// logs a visit offline for a household in h; team B moves the household to
// g and syncs first.
func followSetupX(t *testing.T, opts ...servertest.Option) (ts *servertest.TS, teamB, g, h string, m *agent.Replica, tm string, a *agent.Replica, ta string, hh, visit syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	ts = servertest.Start(t, opts...)
	g, h = ts.OtherHamletA, ts.HamletsA[0]
	tmB, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	teamB = tmB.ID
	m, tm = realAgent(t, ts, teamB)
	hh, err = m.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	a, ta = realAgent(t, ts, ts.TeamA)
	realSync(t, a, ts, ta)
	visit, err = a.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID mức 2"})
	require.NoError(t, err)
	tick()
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": g}))
	realSync(t, m, ts, tm)
	tick()
	return
}

// TestFollowedRecordCorrectedAfterItsPushIsRefusedAndTheVisitKept (helper
// 297): she corrects her visit after the push that took it, while that
// sync still runs (the app writes during a sync) or after the link dropped
// right after the Ack, before her laptop heard of the move. The server
// moved the visit at that push: the correction, made after it, is refused
// as made after the move (§15), the visit itself reaches the household's
// team, and once she discards the refusal her laptop equals a fresh clone.
func TestFollowedRecordCorrectedAfterItsPushIsRefusedAndTheVisitKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// correct pushes the visit and corrects it before her laptop pulls.
		correct func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, edit func())
	}{
		{"while the sync that pushed it runs", func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, edit func()) {
			edited := false
			_, err := a.Sync(context.Background(), ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
				if p.Phase == "push" && !edited {
					edited = true
					edit()
				}
			}})
			require.NoError(t, err)
			require.True(t, edited)
		}},
		{"after the link dropped at the Ack", func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, edit func()) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
				if p.Phase == "push" {
					cancel() // the 3G link drops once the Ack is in
				}
			}})
			require.Error(t, err)
			n, err := a.Pending(context.Background())
			require.NoError(t, err)
			require.Zero(t, n, "the push was acknowledged")
			tick()
			edit()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts, teamB, g, h, m, tm, a, ta, hh, visit := followSetupX(t)
			tc.correct(t, ts, a, ta, func() {
				require.NoError(t, a.Update(ctx, "visits", visit, agent.Fields{"notes": "cài VNeID mức 2, đã sửa"}))
			})
			realSync(t, a, ts, ta)
			realSync(t, a, ts, ta)
			rej, err := a.Rejected(ctx)
			require.NoError(t, err)
			require.Len(t, rej, 1, "her correction, made after the household moved out of her team's hamlets, is refused")
			x := rej[0]
			require.Equal(t, string(syncproto.CodeMovedOutOfScope), x.Code)
			require.NotNil(t, x.Why)
			require.Equal(t, hh.String(), x.Why.Params["household"])
			require.Equal(t, h, x.Why.Params["from"])
			require.Equal(t, g, x.Why.Params["to"])

			realSync(t, m, ts, tm)
			r, err := m.Show(ctx, "visits", visit.String())
			require.NoError(t, err, "the household's team holds her visit")
			require.Equal(t, "cài VNeID mức 2", r.Fields["notes"])
			require.NoError(t, a.DiscardRejected(ctx, x.ID))
			realSync(t, a, ts, ta)
			equalsFreshClone(t, ts, ts.TeamA, a)
			equalsFreshClone(t, ts, teamB, m)
		})
	}
}

// TestFollowedRecordCorrectedBeforeItsPushTravelsWhateverTheBatches
// (helper 299): her laptop, not yet told of team B's move, corrects her
// visit before it syncs, and pushes in small batches (a slow link): the
// visit in the first, the correction in the next. Her correction is taken
// as it is when both go in one batch: the visit moved at that push, after
// she wrote. Recorded as moved when the household moved, the next batch's
// correction was refused where the same one in one batch was taken.
func TestFollowedRecordCorrectedBeforeItsPushTravelsWhateverTheBatches(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{0, 5} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts, teamB, _, _, m, tm, a, ta, _, visit := followSetupX(t)
			require.NoError(t, a.Update(ctx, "visits", visit, agent.Fields{"notes": "cài VNeID mức 2, đã sửa"}))
			_, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, BatchSize: batch})
			require.NoError(t, err)
			realSync(t, a, ts, ta)
			requireNoneRefused(t, a)
			realSync(t, m, ts, tm)
			r, err := m.Show(ctx, "visits", visit.String())
			require.NoError(t, err)
			require.Equal(t, "cài VNeID mức 2, đã sửa", r.Fields["notes"], "her correction reached the household's team")
			equalsFreshClone(t, ts, teamB, m)
		})
	}
}

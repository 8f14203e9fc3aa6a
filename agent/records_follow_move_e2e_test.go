package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRecordsMadeOfflineFollowTheirHouseholdsLaterMove (helper 288, stop
// 68): a volunteer of team A, offline, logs a visit, a skill taught and a
// field report for a household of her hamlet. Another volunteer then moves
// the household into another hamlet, and syncs first. Her records were made
// while the household was in her hamlet, so the server takes them; but it
// filed them in the hamlet her push named, where the household no longer
// is: the team that holds the household never received them, and her
// laptop kept them, live, in her hamlet. A visit or a tutoring record is
// in its household's hamlet; a report, of a place, follows a move made
// after it was filed, as the server's move of a household takes every
// record that names it.
func TestRecordsMadeOfflineFollowTheirHouseholdsLaterMove(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// intoHers: the household moves into another hamlet of her team, so
		// her laptop keeps the records, in their household's hamlet.
		intoHers bool
		// movedFirst: the household moved before she wrote, her laptop not
		// knowing; the report, filed after the move, stays where she filed it.
		movedFirst bool
	}{
		{name: "into another team's hamlet"},
		{name: "into another hamlet of her team", intoHers: true},
		{name: "into another hamlet of her team before she wrote", intoHers: true, movedFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts, team, g, h := twoHamletTeam(t)
			if tc.intoHers {
				team, h, g = ts.TeamA, ts.HamletsA[0], ts.HamletsA[1]
			}
			m, tm := realAgent(t, ts, team)
			hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
			require.NoError(t, err)
			realSync(t, m, ts, tm)
			a, ta := realAgent(t, ts, ts.TeamA)
			realSync(t, a, ts, ta)
			move := func() {
				tick()
				require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": g}))
				realSync(t, m, ts, tm)
				tick()
			}
			if tc.movedFirst {
				move()
			}

			records := map[string]syncproto.RowID{}
			records["visits"], err = a.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID mức 2"})
			require.NoError(t, err)
			records["tutoring_records"], err = a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
			require.NoError(t, err)
			records["field_reports"], err = a.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "đường vào nhà ngập"})
			require.NoError(t, err)
			want := map[string]string{"visits": g, "tutoring_records": g, "field_reports": g}
			if tc.movedFirst {
				want["field_reports"] = h
			} else {
				move()
			}

			realSync(t, a, ts, ta)
			rej, err := a.Rejected(ctx)
			require.NoError(t, err)
			require.Empty(t, rej, "made while the household was in her team's hamlets: the server takes them")
			realSync(t, a, ts, ta)
			for table, id := range records {
				if !tc.intoHers {
					require.False(t, holdsRow(t, a, id), "her laptop holds the %s of a household now outside her team's hamlets", table)
					continue
				}
				r, err := a.Show(ctx, table, id.String())
				require.NoError(t, err, "her laptop keeps the %s", table)
				require.Equal(t, want[table], r.Fields["hamlet_code"], "her laptop holds the %s in its household's hamlet", table)
			}

			realSync(t, m, ts, tm)
			for table, id := range records {
				r, err := m.Show(ctx, table, id.String())
				require.NoError(t, err, "the team that holds the household receives its %s", table)
				require.Equal(t, want[table], r.Fields["hamlet_code"], "the %s is in its household's hamlet", table)
			}
			equalsFreshClone(t, ts, team, m)
			if tc.intoHers {
				equalsFreshClone(t, ts, team, a)
			}
		})
	}
}

// TestRecordsFollowTheirHouseholdThroughFaults (helper 294): the records a
// volunteer made offline before another team moved their household away
// follow it whatever else her sync meets, and every laptop then equals a
// fresh clone of its team.
func TestRecordsFollowTheirHouseholdThroughFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// before writes on her laptop before the move; after runs her
		// syncs after it (two plain syncs when nil).
		before func(t *testing.T, a *agent.Replica, hh syncproto.RowID)
		after  func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, hh syncproto.RowID)
	}{
		{
			name: "a report with a photo",
			before: func(t *testing.T, a *agent.Replica, hh syncproto.RowID) {
				rep, err := a.AddReport(context.Background(), hh, agent.Fields{"category": "ha_tang_do_thi", "description": "đường vào nhà ngập"})
				require.NoError(t, err)
				_, err = a.AttachPhoto(context.Background(), rep, aPhoto(t, 31, 1200, 900), false)
				require.NoError(t, err)
			},
			after: func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, hh syncproto.RowID) {
				realSync(t, a, ts, ta)
				realSync(t, a, ts, ta)
				up, _, err := a.PhotosPending(context.Background())
				require.NoError(t, err)
				require.Zero(t, up, "the photo reached the server")
			},
		},
		{
			name: "a visit added and deleted, another added and corrected",
			before: func(t *testing.T, a *agent.Replica, hh syncproto.RowID) {
				ctx := context.Background()
				v, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "nhầm hộ"})
				require.NoError(t, err)
				require.NoError(t, a.Delete(ctx, "visits", v))
				v, err = a.AddVisit(ctx, hh, agent.Fields{"notes": "cài VNeID"})
				require.NoError(t, err)
				require.NoError(t, a.Update(ctx, "visits", v, agent.Fields{"notes": "cài VNeID mức 2"}))
			},
		},
		{
			name: "the Ack of the push that takes them lost",
			before: func(t *testing.T, a *agent.Replica, hh syncproto.RowID) {
				_, err := a.AddVisit(context.Background(), hh, agent.Fields{"notes": "cài VNeID"})
				require.NoError(t, err)
				_, err = a.AddReport(context.Background(), hh, agent.Fields{"category": "ha_tang_do_thi", "description": "đường vào nhà ngập"})
				require.NoError(t, err)
			},
			after: func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, hh syncproto.RowID) {
				ctx := context.Background()
				proxy, dropped := ackDropProxy(t, ts.URL[len("http://"):])
				_, err := a.Sync(ctx, proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second})
				require.EqualValues(t, 1, dropped.Load())
				if err != nil {
					_, err = a.Sync(ctx, proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second})
				}
				require.NoError(t, err)
				realSync(t, a, ts, ta)
			},
		},
		{
			name: "beside her edit of the household refused, then discarded",
			before: func(t *testing.T, a *agent.Replica, hh syncproto.RowID) {
				_, err := a.AddVisit(context.Background(), hh, agent.Fields{"notes": "cài VNeID"})
				require.NoError(t, err)
			},
			after: func(t *testing.T, ts *servertest.TS, a *agent.Replica, ta string, hh syncproto.RowID) {
				ctx := context.Background()
				require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "sau khi chuyển"}))
				realSync(t, a, ts, ta)
				realSync(t, a, ts, ta)
				rej, err := a.Rejected(ctx)
				require.NoError(t, err)
				require.Len(t, rej, 1, "her edit, made after the move, is refused")
				require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
				realSync(t, a, ts, ta)
				realSync(t, a, ts, ta)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ts, team, g, h := twoHamletTeam(t)
			m, tm := realAgent(t, ts, team)
			hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
			require.NoError(t, err)
			realSync(t, m, ts, tm)
			a, ta := realAgent(t, ts, ts.TeamA)
			realSync(t, a, ts, ta)
			tc.before(t, a, hh)
			tick()
			require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": g}))
			realSync(t, m, ts, tm)
			tick()
			if tc.after != nil {
				tc.after(t, ts, a, ta, hh)
			} else {
				realSync(t, a, ts, ta)
				realSync(t, a, ts, ta)
			}
			requireNoneRefused(t, a)
			equalsFreshClone(t, ts, ts.TeamA, a)
			realSync(t, m, ts, tm)
			equalsFreshClone(t, ts, team, m)
		})
	}
}

// TestReportPlacedAfterTheMoveKeepsItsPlace (helper 294): she files a
// report for a household of her hamlet; a teammate moves the household to
// another of the team's hamlets; she, not knowing, gives the report the
// place it is about, a third hamlet. Her place was written after the move,
// so it stands, as her write would beat the move's had the server held the
// report then; the server wrote the household's hamlet over it.
func TestReportPlacedAfterTheMoveKeepsItsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	k, n, third := ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, third)
	require.NoError(t, err)
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": k, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	a, ta := realAgent(t, ts, ts.TeamA)
	realSync(t, a, ts, ta)
	rep, err := a.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "cống tắc"})
	require.NoError(t, err)
	tick()
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": n}))
	realSync(t, m, ts, tm)
	tick()
	require.NoError(t, a.Update(ctx, "field_reports", rep, agent.Fields{"hamlet_code": third}))
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	requireNoneRefused(t, a)
	r, err := a.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err)
	require.Equal(t, third, r.Fields["hamlet_code"], "the place she gave the report after the move stands")
	equalsFreshClone(t, ts, ts.TeamA, a)
}

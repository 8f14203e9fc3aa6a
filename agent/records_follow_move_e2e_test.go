package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
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

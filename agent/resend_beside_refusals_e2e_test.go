package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// shiftedLaptop: a laptop whose wall clock runs shift ahead of real time
// (settable), enrolled in team A; day(d) is a date by the server's clock.
func shiftedLaptop(t *testing.T, ts *servertest.TS) (*agent.Replica, string, *atomic.Int64, func(int) string) {
	t.Helper()
	var shift atomic.Int64
	l, err := agent.OpenWith(context.Background(), filepath.Join(t.TempDir(), "l.db"),
		agent.Options{Now: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tok, _, err := l.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	return l, tok, &shift, func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
}

// householdDatedAhead: a laptop whose clock runs five days ahead adds,
// in hamlet, a household dated after tomorrow by the server's clock,
// which the server refuses whole at its first sync.
func householdDatedAhead(t *testing.T, ts *servertest.TS, hamlet string) (*agent.Replica, string, func(int) string, syncproto.RowID) {
	t.Helper()
	l, tok, shift, day := shiftedLaptop(t, ts)
	shift.Store(int64(5 * 24 * time.Hour))
	hh, err := l.AddHousehold(context.Background(), agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	return l, tok, day, hh
}

// householdWithMoveAndDateRefused: a household the server holds in
// HamletsA[0]; the laptop (its clock jumped days ahead) dates it after
// tomorrow and moves it into HamletsA[1], which the team lost meanwhile.
// Both changes are refused; the household stays beside them, in the lost
// hamlet here. Team A also holds OtherHamletA.
func householdWithMoveAndDateRefused(t *testing.T) (*servertest.TS, *agent.Replica, string, func(int) string, string, int64, int64) {
	t.Helper()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost, third := ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, third)
	require.NoError(t, err)
	l, tok, shift, day := shiftedLaptop(t, ts)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Lâm Thị Sáu"})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)

	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	tick()
	shift.Store(int64(5 * 24 * time.Hour))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"registered_on": day(3)}))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
	syncTwice(t, l, ts, tok)
	var move, date int64
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	for _, x := range rej {
		require.Equal(t, hh.String(), x.Row)
		switch x.Field {
		case "hamlet_code":
			move = x.ID
		case "registered_on":
			date = x.ID
		}
	}
	require.NotZero(t, move, "the move is refused: %+v", rej)
	require.NotZero(t, date, "the date is refused: %+v", rej)
	h, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household stays beside its refused move")
	require.Equal(t, lost, h.Fields["hamlet_code"])
	return ts, l, tok, day, hh.String(), move, date
}

// Review 39, R1: the volunteer corrects the refused date of a household
// the server holds in a hamlet the team covers. The household also carries
// a refused move into a lost hamlet (another entry of the list): «send
// again» of the date was refused at once for the move's hamlet (4357830),
// and the date could not reach the server. The date goes; the move stays
// listed.
func TestADateSentAgainGoesWithoutTheRefusedMoveBesideIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day, hh, _, date := householdWithMoveAndDateRefused(t)
	require.NoError(t, l.FixRejected(ctx, date, day(-2)), "the date fix is refused for the hamlet of the move")
	realSync(t, l, ts, tok)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the move stays listed: %+v", rej)
	require.Equal(t, "hamlet_code", rej[0].Field)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	d, err := mate.Show(ctx, "households", hh)
	require.NoError(t, err)
	require.Equal(t, day(-2), d.Fields["registered_on"])
}

// Review 39, R2: the team then loses the household's first hamlet too.
// The volunteer discards the move: the household goes back there, and
// stays beside the other refusal, the date. Discarding the date too left
// it live in a hamlet the team does not cover, with nothing beside it, for
// good (a discard dropped a row back in a lost hamlet only when the
// discarded change was a move). Sending the date again instead: the
// server refuses it again (the hamlet is not the team's) and the next
// sync's change of scope drops the household, the date listed.
func TestALostHamletsHouseholdLeavesWithItsLastRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, l *agent.Replica, date int64)
	}{
		{"the date discarded too", func(t *testing.T, l *agent.Replica, date int64) {
			require.NoError(t, l.DiscardRejected(context.Background(), date))
		}},
		{"the date sent again", func(t *testing.T, l *agent.Replica, date int64) {
			require.NoError(t, l.FixRejected(context.Background(), date, nil))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ts, l, tok, _, hh, move, date := householdWithMoveAndDateRefused(t)
			kept, third := ts.HamletsA[0], ts.OtherHamletA
			_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, kept)
			require.NoError(t, err)
			sum := realSync(t, l, ts, tok)
			require.NotNil(t, sum.ScopeChange)
			require.Equal(t, []string{kept}, sum.ScopeChange.Lost)

			require.NoError(t, l.DiscardRejected(ctx, move))
			_, err = l.Show(ctx, "households", hh)
			require.NoError(t, err, "the household stays beside its refused date")
			tc.act(t, l, date)
			syncTwice(t, l, ts, tok)

			h, err := l.Show(ctx, "households", hh)
			if err == nil {
				t.Fatalf("the laptop holds household %s live in %v, outside its team's hamlets [%s]", hh, h.Fields["hamlet_code"], third)
			}
			rej, err := l.Rejected(ctx)
			require.NoError(t, err)
			for _, x := range rej {
				require.Equal(t, "registered_on", x.Field, "only the date sent again may stay listed: %+v", x)
			}
		})
	}
}

// Review 39, R3: a new household refused whole (dated after tomorrow by
// the server's clock) with its visit refused for its absence; its hamlet
// then leaves the team. The volunteer sends the household again into a
// hamlet the team covers: the visit stayed behind, in the old hamlet,
// listed as waiting for a household the server then held, and «send
// again» on it was refused for its hamlet. It follows its household.
func TestAHouseholdSentAgainElsewhereTakesItsRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	k, m := ts.HamletsA[0], ts.HamletsA[1]
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	visit, err := l.AddVisit(ctx, hh, agent.Fields{"visited_on": day(-1)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, k)
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)

	hamletID := rejectedID(t, l, "households", hh.String(), "hamlet_code")
	_, errH := l.Show(ctx, "households", hh.String())
	_, errV := l.Show(ctx, "visits", visit.String())
	t.Logf("after the loss: household held here: %v, visit held here: %v", errH == nil, errV == nil)

	require.NoError(t, l.FixRejected(ctx, hamletID, m), "the household is sent again in a hamlet the team covers")
	realSync(t, l, ts, tok)
	require.NoError(t, l.FixRejected(ctx, rejectedByField(t, l)["registered_on"], day(-2)), "then its date corrected")
	syncTwice(t, l, ts, tok)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	_, err = mate.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the server took the household in %s", m)
	_, err = mate.Show(ctx, "visits", visit.String())
	require.NoError(t, err, "the visit went with its household")
	v, err := l.Show(ctx, "visits", visit.String())
	require.NoError(t, err)
	require.Equal(t, m, v.Fields["hamlet_code"])
	requireNoneRefused(t, l)
}

// Review 39b, D1: a new household refused for its date, with a report of
// a place in another of the team's hamlets that names it (refused for
// its absence). The household's date corrected, it goes again where it
// was: the report went with it into the household's hamlet, and the
// server held a report of one hamlet in another. It stays in its own.
func TestAReportOfAnotherHamletStaysThereWhenItsHouseholdGoesAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	k, m := ts.HamletsA[0], ts.HamletsA[1]
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)
	sendAgain(t, ts, l, tok, rejectedByField(t, l)["registered_on"], day(-2))
	requireNoneRefused(t, l)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	r, err := mate.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err)
	require.Equal(t, m, r.Fields["hamlet_code"], "the server holds the report of a place in %s", m)
}

// Review 39b, D2: every edit of a household kept beside its refused move
// into a lost hamlet lands in that hamlet; noted so that a rescope drops
// it should the server take it, it made each next sync report the
// hamlet lost again ("Your team no longer covers hamlet(s) 32002-02"),
// though the volunteer heard it once and nothing changed.
func TestEditsBesideARefusedMoveDoNotReportTheLossAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, _, hh, _, _ := householdWithMoveAndDateRefused(t)
	require.Nil(t, realSync(t, l, ts, tok).ScopeChange)
	for i, notes := range []string{"một", "hai", "ba"} {
		require.NoError(t, l.EditHousehold(ctx, uuid.MustParse(hh), agent.Fields{"notes": notes}))
		if sum := realSync(t, l, ts, tok); sum.ScopeChange != nil {
			t.Errorf("edit %d: sync reports %+v", i+1, *sum.ScopeChange)
		}
		_, err := l.Show(ctx, "households", hh)
		require.NoError(t, err, "the household stays beside its refused move")
	}
}

// Review 39c (helper 76), of 544db5a: a new household refused for its
// date, with its visit refused for its absence, moved on the laptop to
// another of the team's hamlets (before the first push, or after the
// refusal) before its date is corrected. The visit went as it was, in the
// household's first hamlet: the server held a visit in one hamlet for a
// household in another. A visit is always in its household's hamlet.
func TestAVisitFollowsAHouseholdMovedBeforeItsDateIsFixed(t *testing.T) {
	t.Parallel()
	for _, moveFirst := range []bool{false, true} {
		name := "moved after the refusal"
		if moveFirst {
			name = "moved before the first push"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			k, m := ts.HamletsA[0], ts.HamletsA[1]
			l, tok, day, hh := householdDatedAhead(t, ts, k)
			visit, err := l.AddVisit(ctx, hh, agent.Fields{"visited_on": day(-1)})
			require.NoError(t, err)
			if moveFirst {
				require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": m}))
			}
			syncTwice(t, l, ts, tok)
			if !moveFirst {
				require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": m}))
				syncTwice(t, l, ts, tok)
			}
			sendAgain(t, ts, l, tok, rejectedByField(t, l)["registered_on"], day(-2))
			requireNoneRefused(t, l)

			mate, tm := realAgent(t, ts, ts.TeamA)
			realSync(t, mate, ts, tm)
			h, err := mate.Show(ctx, "households", hh.String())
			require.NoError(t, err)
			require.Equal(t, m, h.Fields["hamlet_code"])
			v, err := mate.Show(ctx, "visits", visit.String())
			require.NoError(t, err)
			require.Equal(t, m, v.Fields["hamlet_code"], "the server holds the visit in its household's hamlet")
		})
	}
}

// Review 39f (helper 79), of 0b047a6: a new household refused for its
// date, with a report filed for it (in its hamlet) and a visit, both
// refused for its absence; moved on the laptop to another of the team's
// hamlets, its date corrected, then one of its entries pressed. Pressing
// its name took the report to the household's new hamlet; pressing its
// move left it in the first: the move had taken the refused first hamlet
// off the list, the only place followingHousehold looked for it. Whichever
// entry is pressed, the report goes where the household went.
func TestAReportFollowsItsHouseholdWhicheverEntryIsPressed(t *testing.T) {
	t.Parallel()
	for _, press := range []string{"head_name", "hamlet_code"} {
		t.Run(press, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			k, m := ts.HamletsA[0], ts.HamletsA[1]
			l, tok, day, hh := householdDatedAhead(t, ts, k)
			rep, err := l.AddReport(ctx, hh, agent.Fields{"category": "ha_tang_do_thi", "description": "nhà dột", "submitted_at": time.Now().UnixMilli()})
			require.NoError(t, err)
			visit, err := l.AddVisit(ctx, hh, agent.Fields{"visited_on": day(-1)})
			require.NoError(t, err)
			syncTwice(t, l, ts, tok)
			require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": m}))
			syncTwice(t, l, ts, tok)
			require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"registered_on": day(-2)}), "the date corrected on the card")
			sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), press), nil)
			requireNoneRefused(t, l)
			mate, tm := realAgent(t, ts, ts.TeamA)
			realSync(t, mate, ts, tm)
			for table, id := range map[string]string{"households": hh.String(), "visits": visit.String(), "field_reports": rep.String()} {
				d, err := mate.Show(ctx, table, id)
				require.NoError(t, err, table)
				require.Equal(t, m, d.Fields["hamlet_code"], "the server holds the %s in the household's hamlet", table)
			}
		})
	}
}

// Review 39g (helper 80), of c0534a6: a report of a place goes where the
// server's own rule would put it (a household's records move with it,
// whatever their hamlet): it stays when the household did not move after
// it was filed, though a refused note of the household was written while
// it sat in the report's hamlet before (c0534a6 moved it into the
// household's); it follows a move made after it (c0534a6 left it).
func TestAReportOfAPlaceFollowsOnlyAMoveAfterIt(t *testing.T) {
	t.Parallel()
	t.Run("filed after the household came back", func(t *testing.T) {
		ctx := context.Background()
		ts := servertest.Start(t)
		k, m := ts.HamletsA[0], ts.HamletsA[1]
		l, tok, day, hh := householdDatedAhead(t, ts, k)
		syncTwice(t, l, ts, tok)
		require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": m}))
		require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"notes": "ở tạm"}))
		syncTwice(t, l, ts, tok)
		require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": k}))
		syncTwice(t, l, ts, tok)
		rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
			"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
		require.NoError(t, err)
		syncTwice(t, l, ts, tok)
		sendAgain(t, ts, l, tok, rejectedByField(t, l)["registered_on"], day(-2))
		requireNoneRefused(t, l)
		mate, tm := realAgent(t, ts, ts.TeamA)
		realSync(t, mate, ts, tm)
		h, err := mate.Show(ctx, "households", hh.String())
		require.NoError(t, err)
		require.Equal(t, k, h.Fields["hamlet_code"])
		r, err := mate.Show(ctx, "field_reports", rep.String())
		require.NoError(t, err)
		require.Equal(t, m, r.Fields["hamlet_code"], "the server holds the report of a place in %s", m)
	})
	t.Run("the household moved after it", func(t *testing.T) {
		ts, l, tok, day, hh, rep := reportOfPlaceThenMove(t)
		sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), "registered_on"), day(-2))
		requireNoneRefused(t, l)
		require.Equal(t, ts.OtherHamletA, serverHamlet(t, ts, "field_reports", rep.String()), "the report followed its household's move")
	})
}

// Review 39h (helper 81), of f15f062: the same report, the household moved
// after it, but «send again» pressed on the report first (refused again,
// its household still missing). The press rewrote the report's refused
// changes after the move, and the household's fix then saw no move after
// the report: it stayed in its place, where the server's move would have
// taken it into the household's hamlet.
func TestAReportSentAgainFirstStillFollowsAMoveAfterIt(t *testing.T) {
	t.Parallel()
	ts, l, tok, day, hh, rep := reportOfPlaceThenMove(t)
	sendAgain(t, ts, l, tok, rejectedID(t, l, "field_reports", rep.String(), "description"), nil)
	require.NotZero(t, rejectedID(t, l, "field_reports", rep.String(), "description"), "refused again: its household is still missing")
	sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), "registered_on"), day(-2))
	requireNoneRefused(t, l)
	require.Equal(t, ts.OtherHamletA, serverHamlet(t, ts, "field_reports", rep.String()), "the report followed its household's move, made after it was filed")
}

// teamOfThreeHamlets: a real server whose team A holds k and m and also
// p (OtherHamletA).
func teamOfThreeHamlets(t *testing.T) (ts *servertest.TS, k, m, p string) {
	t.Helper()
	ts = servertest.Start(t)
	_, err := ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	return ts, ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
}

// reportOfPlaceThenMove: household hh (dated ahead, refused) in k, a report
// of place m naming it, both refused; then the household moved into p (the
// team's third hamlet), refused too.
func reportOfPlaceThenMove(t *testing.T) (*servertest.TS, *agent.Replica, string, func(int) string, syncproto.RowID, syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	ts, k, m, p := teamOfThreeHamlets(t)
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	syncTwice(t, l, ts, tok)
	return ts, l, tok, day, hh, rep
}

// serverHamlet is the hamlet the server holds row in, as a fresh team-mate
// of team A clones it.
func serverHamlet(t *testing.T, ts *servertest.TS, table, id string) any {
	t.Helper()
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	r, err := mate.Show(context.Background(), table, id)
	require.NoError(t, err, table)
	return r.Fields["hamlet_code"]
}

// syncTwice: a push, and a second sync that pulls what the first one
// brought about.
func syncTwice(t *testing.T, l *agent.Replica, ts *servertest.TS, tok string) {
	t.Helper()
	realSync(t, l, ts, tok)
	realSync(t, l, ts, tok)
}

// setTeamHamlet gives team A hamlet (held) or takes it away, and the
// laptop hears of it.
func setTeamHamlet(t *testing.T, ts *servertest.TS, l *agent.Replica, tok, hamlet string, held bool) {
	t.Helper()
	var err error
	if held {
		_, err = ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, hamlet)
	} else {
		_, err = ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, hamlet)
	}
	require.NoError(t, err)
	tick()
	syncTwice(t, l, ts, tok)
}

// sendAgain presses «send again» on refused change id (value nil: as it
// was) and syncs.
func sendAgain(t *testing.T, ts *servertest.TS, l *agent.Replica, tok string, id int64, value any) {
	t.Helper()
	require.NoError(t, l.FixRejected(context.Background(), id, value))
	syncTwice(t, l, ts, tok)
}

// requireNoneRefused: the laptop's rejected list is empty.
func requireNoneRefused(t *testing.T, l *agent.Replica) {
	t.Helper()
	rej, err := l.Rejected(context.Background())
	require.NoError(t, err)
	require.Empty(t, rej)
}

// reportPressedWhileLostFollows: report rep, refused with its new
// household hh, which then moved into team A's hamlet p, is pressed while
// the team has lost p; then (if not nil) may replace the laptop; p
// regained, the household's date corrected, the server holds both in p:
// the household moved after the report was filed.
func reportPressedWhileLostFollows(t *testing.T, ts *servertest.TS, l *agent.Replica, tok string, day func(int) string, hh syncproto.RowID, rep, p string, then func() *agent.Replica) {
	t.Helper()
	setTeamHamlet(t, ts, l, tok, p, false)
	sendAgain(t, ts, l, tok, rejectedID(t, l, "field_reports", rep, "description"), nil)
	if then != nil {
		l = then()
	}
	setTeamHamlet(t, ts, l, tok, p, true)
	sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), "registered_on"), day(-2))
	requireNoneRefused(t, l)
	require.Equal(t, p, serverHamlet(t, ts, "households", hh.String()))
	require.Equal(t, p, serverHamlet(t, ts, "field_reports", rep), "the household moved after the report was filed")
}

// Review 39i (helper 82), of ac36f0c: the report pressed while its
// household's new hamlet p is lost goes as it was (refused again, written
// anew after the move); p regained and the household sent again into p,
// the report stayed in m: the sequence of their writes no longer showed
// the move after the report.
func TestAReportPressedWhileItsHouseholdsHamletIsLostFollowsLater(t *testing.T) {
	t.Parallel()
	ts, l, tok, day, hh, rep := reportOfPlaceThenMove(t)
	reportPressedWhileLostFollows(t, ts, l, tok, day, hh, rep.String(), ts.OtherHamletA, nil)
}

// Review 39i (helper 82), of ac36f0c: the household sent again while the
// report's hamlet m was lost (the report stayed listed), m regained, the
// household then moved into p, which the server took; the report pressed
// stayed in m: the household's resend had written its first writes anew,
// after the report.
func TestAReportPressedAfterItsHouseholdWentAndMovedFollows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, m, p := teamOfThreeHamlets(t)
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, m)
	require.NoError(t, err)
	tick()
	realSync(t, l, ts, tok)
	sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), "registered_on"), day(-2))
	require.NotZero(t, rejectedID(t, l, "field_reports", rep.String(), "description"), "the report stayed listed (its hamlet lost)")
	setTeamHamlet(t, ts, l, tok, m, true)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	syncTwice(t, l, ts, tok)
	require.Equal(t, p, serverHamlet(t, ts, "households", hh.String()))
	sendAgain(t, ts, l, tok, rejectedID(t, l, "field_reports", rep.String(), "description"), nil)
	requireNoneRefused(t, l)
	require.Equal(t, p, serverHamlet(t, ts, "field_reports", rep.String()), "the household moved after the report was filed")
}

// Review 40, D1 (helper 83), of 640e35d: a report filed while the household
// sat in the hamlet of a move the volunteer then discards was filed, as the
// server will know it, beside the household where it is back; the note of
// the move's hamlet read the return as a move, and the report followed it.
func TestAReportFiledAfterADiscardedMoveStaysInItsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, m, p := teamOfThreeHamlets(t)
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)
	move := refusedMoves(t, l, hh)[p]
	require.NotZero(t, move, "the household's move refused as its own change")
	require.NoError(t, l.DiscardRejected(ctx, move))
	h, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, k, h.Fields["hamlet_code"], "the move discarded: the household is back in k")
	sendAgain(t, ts, l, tok, rejectedID(t, l, "households", hh.String(), "registered_on"), day(-2))
	requireNoneRefused(t, l)
	require.Equal(t, k, serverHamlet(t, ts, "households", hh.String()))
	require.Equal(t, m, serverHamlet(t, ts, "field_reports", rep.String()), "the household never moved after the report was filed")
}

// Review 40, D2 (helper 83), of 640e35d: a report imported from a sheet
// had no note of its household's hamlet (the import writes its own log),
// and, pressed while the household's new hamlet was lost, stayed in its
// place as in review 39i.
func TestAnImportedReportFollowsAMoveAfterIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, m, p := teamOfThreeHamlets(t)
	l, tok, shift, day := shiftedLaptop(t, ts)
	shift.Store(int64(5 * 24 * time.Hour))
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": k, "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	shift.Store(0) // the report's submitted_at (the import's default: now) is not ahead
	res, err := l.Import(ctx, &agent.ImportSheet{Rows: [][]string{
		{"hamlet_code", "household_id", "category", "description"},
		{m, hh.String(), "ha_tang_do_thi", "cống ở đầu khóm bị tắc"},
	}}, agent.ImportOptions{Table: "field_reports"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Imported)
	syncTwice(t, l, ts, tok)
	var rep string
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	for _, x := range rej {
		if x.Table == "field_reports" {
			rep = x.Row
		}
	}
	require.NotEmpty(t, rep, "the imported report refused for its household's absence: %+v", rej)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	syncTwice(t, l, ts, tok)
	reportPressedWhileLostFollows(t, ts, l, tok, day, hh, rep, ts.OtherHamletA, nil)
}

// Review 40, D3 (helper 83), of 640e35d: a repair did not carry the notes
// of reports' households over; the report then stayed in its place as in
// review 39i.
func TestARepairedReplicaKeepsWhereAReportWasFiled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, m, p := teamOfThreeHamlets(t)
	path := filepath.Join(t.TempDir(), "l.db")
	var shift atomic.Int64
	opts := agent.Options{Now: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }}
	l, err := agent.OpenWith(ctx, path, opts)
	require.NoError(t, err)
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	shift.Store(int64(5 * 24 * time.Hour))
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": k, "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": m, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	syncTwice(t, l, ts, tok)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	syncTwice(t, l, ts, tok)
	reportPressedWhileLostFollows(t, ts, l, tok, day, hh, rep.String(), ts.OtherHamletA, func() *agent.Replica {
		require.NoError(t, l.Close())
		require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
		rr, err := agent.Repair(ctx, path, opts)
		require.NoError(t, err)
		require.False(t, rr.Lost(), "%+v", rr)
		l, err = agent.OpenWith(ctx, path, opts)
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		return l
	})
}

// Review 40b (helper 84), of 868a9df: moves k→p→q sent in one push, all
// refused with the new household, a report filed while it sat in p; the
// volunteer discards the middle move. The report was, as the server will
// know it, filed while the household sat in k, and it moved to q after:
// the note of p became q (where the household is now), not k (where it
// was before the move discarded), and the report, pressed while q was
// lost, stayed in its place.
func TestAReportFiledInTheMiddleOfDiscardedMovesFollowsTheLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, q, p := teamOfThreeHamlets(t)
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": k, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": q}))
	syncTwice(t, l, ts, tok)
	move := refusedMoves(t, l, hh)[p]
	require.NotZero(t, move, "the move to p refused as its own change")
	require.NoError(t, l.DiscardRejected(ctx, move))
	h, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, q, h.Fields["hamlet_code"])
	reportPressedWhileLostFollows(t, ts, l, tok, day, hh, rep.String(), q, nil)
}

// refusedMoves is the ids of the household's refused moves, by hamlet, the
// first of each.
func refusedMoves(t *testing.T, l *agent.Replica, hh syncproto.RowID) map[string]int64 {
	t.Helper()
	rej, err := l.Rejected(context.Background())
	require.NoError(t, err)
	out := map[string]int64{}
	for _, x := range rej {
		if v, ok := x.Value.(string); ok && x.Table == "households" && x.Row == hh.String() && x.Field == "hamlet_code" && out[v] == 0 {
			out[v] = x.ID
		}
	}
	return out
}

// Review 40c (helper 86), D2, older than this stop: moves k→p→q of a new
// household sent in one push, all refused with it; discarding p, then q,
// dropped the household whole from the laptop (q still named the
// discarded p as what it overwrote, so nothing was found to go back to),
// though the server never took it: lost for good. It goes back to k.
func TestDiscardingTwoRefusedMovesPutsTheHouseholdBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, q, p := teamOfThreeHamlets(t)
	l, tok, _, hh := householdDatedAhead(t, ts, k)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": q}))
	syncTwice(t, l, ts, tok)
	moves := refusedMoves(t, l, hh)
	require.NotZero(t, moves[p])
	require.NotZero(t, moves[q])
	require.NoError(t, l.DiscardRejected(ctx, moves[p]))
	require.NoError(t, l.DiscardRejected(ctx, moves[q]))
	h, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household the server never took is still on the laptop")
	require.Equal(t, k, h.Fields["hamlet_code"])
}

// Review 40c (helper 86), D1, of 4b42bc7: moves k→p→q→p in one push, a
// report of a place in k filed while the household sat in q; the first
// move to p discarded, then the move to q. The note of q became p (where
// the household is now) instead of k: the move to q's base named the
// discarded first move, gone from the history. Pressed while p was lost,
// the report stayed in k.
func TestAReportFiledAfterTwoDiscardedMovesFollowsTheLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, k, q, p := teamOfThreeHamlets(t)
	l, tok, day, hh := householdDatedAhead(t, ts, k)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": q}))
	rep, err := l.AddReport(ctx, uuid.Nil, agent.Fields{"hamlet_code": k, "household_id": hh.String(),
		"category": "ha_tang_do_thi", "description": "cống ở đầu khóm bị tắc", "submitted_at": time.Now().UnixMilli()})
	require.NoError(t, err)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": p}))
	syncTwice(t, l, ts, tok)
	moves := refusedMoves(t, l, hh)
	require.NotZero(t, moves[p])
	require.NotZero(t, moves[q])
	require.NoError(t, l.DiscardRejected(ctx, moves[p]))
	require.NoError(t, l.DiscardRejected(ctx, moves[q]))
	h, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, p, h.Fields["hamlet_code"])
	reportPressedWhileLostFollows(t, ts, l, tok, day, hh, rep.String(), p, nil)
}

package agent_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestNewHouseholdFallsWholeWhenItsPlacingHamletIsRefused (issue 17: seed
// 703150 of the wide world with truncation): a laptop that has not synced
// since its team lost a hamlet adds a household there; the team then loses
// its other hamlet too, and the volunteer moves the household into it.
// The push gives the new row the hamlet of its last hamlet_code; its first
// hamlet_code was refused as a move out of the laptop's scope, the fields
// written before the second loss were taken, and the move, made after it,
// was refused: the server held a household without a hamlet_code, a
// partial row every device of that hamlet would receive. A new row stands
// or falls by the hamlet_code that places it: here every change of it is
// refused.
func TestNewHouseholdFallsWholeWhenItsPlacingHamletIsRefused(t *testing.T) {
	t.Parallel()
	w := householdOfALostHamlet(t, true)
	var n int
	require.NoError(t, w.db.QueryRow(`SELECT count(*) FROM households WHERE id = ?`, w.hh.String()).Scan(&n))
	require.Zero(t, n, "the server holds part of a household whose hamlet it refused")
	fields := map[string]bool{}
	for _, f := range w.refused(t) {
		fields[f] = true
	}
	require.True(t, fields["head_name"], "every change of the household is in the rejected list, its name too: %v", fields)
}

// TestNewHouseholdMovedIntoAHeldHamletStands (review 32b, the first fix of
// seed 703150 refused it): a household added in a hamlet the team had
// lost (the laptop did not know), then moved into a hamlet the team
// holds, stands whole in the held hamlet; only its first hamlet_code, a
// move out of the laptop's scope, is refused.
func TestNewHouseholdMovedIntoAHeldHamletStands(t *testing.T) {
	t.Parallel()
	w := householdOfALostHamlet(t, false)
	var head string
	require.NoError(t, w.db.QueryRow(`SELECT head_name FROM households WHERE id = ? AND hamlet_code = ?`, w.hh.String(), w.first).Scan(&head))
	require.Equal(t, "Châu Văn Lợi", head, "the household stands whole in the hamlet its last hamlet_code gives it")
	require.Equal(t, []string{"hamlet_code"}, w.refused(t), "only the first hamlet_code, a move out of scope, is refused")
}

// lostHamletWorld is what householdOfALostHamlet leaves: the server's
// store to look at, the laptop and its household.
type lostHamletWorld struct {
	db    *sql.DB
	l     *agent.Replica
	hh    syncproto.RowID
	first string
}

// refused lists the fields of the household's changes in the laptop's
// rejected list.
func (w lostHamletWorld) refused(t *testing.T) []string {
	rej, err := w.l.Rejected(context.Background())
	require.NoError(t, err)
	var fields []string
	for _, r := range rej {
		if r.Row == w.hh.String() {
			fields = append(fields, r.Field)
		}
	}
	return fields
}

// householdOfALostHamlet: the team loses its second hamlet; the laptop,
// not knowing, adds a household there; the team loses its first hamlet
// too when loseFirst; the volunteer moves the household into the first;
// the laptop syncs. The server and the laptops share a simulated clock, a
// minute between steps.
func householdOfALostHamlet(t *testing.T, loseFirst bool) lostHamletWorld {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	first, second := ts.HamletsA[0], ts.HamletsA[1]
	l := agenttest.New(t, agent.Options{Now: clk.now})
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	realSync(t, l, ts, tl)

	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, second)
	require.NoError(t, err)
	clk.advance(time.Minute)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": second, "head_name": "Châu Văn Lợi"})
	require.NoError(t, err)
	clk.advance(time.Minute)
	if loseFirst {
		_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, first)
		require.NoError(t, err)
		clk.advance(time.Minute)
	}
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": first}))
	clk.advance(time.Minute)
	realSync(t, l, ts, tl)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir, sqlitestore.DBFile)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return lostHamletWorld{db: db, l: l, hh: hh, first: first}
}

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

// keptAwayWorld is a household that team C moved out of L's hamlets just
// after L corrected its head's name, during L's sync: the sync's pull
// dropped it and kept the pending correction (own_away), which the server
// takes (made before the move). Team A (L's) covers kept; team C covers kept and
// other, where the household now is.
type keptAwayWorld struct {
	ts          *servertest.TS
	l, m        *agent.Replica
	tl, tm      string
	row         syncproto.RowID
	kept, other string
	t           *testing.T
	ctx         context.Context
}

func correctionKeptThroughMoveOut(t *testing.T) *keptAwayWorld {
	t.Helper()
	ctx := context.Background()
	w := &keptAwayWorld{t: t, ctx: ctx, ts: servertest.Start(t)}
	ts := w.ts
	w.kept, w.other = ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, w.other)
	require.NoError(t, err)
	require.True(t, changed)
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{w.other, w.kept})
	require.NoError(t, err)
	tick()
	w.l, w.tl = realAgent(t, ts, ts.TeamA)
	w.m, w.tm = realAgent(t, ts, teamC.ID)
	w.row, err = w.m.AddHousehold(ctx, agent.Fields{"hamlet_code": w.kept, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, w.m, ts, w.tm)
	realSync(t, w.l, ts, w.tl)
	require.True(t, holdsRow(t, w.l, w.row))

	// L corrects the name while its sync pushes something else, and then
	// (by its stamp, after the correction) C moves the household.
	require.NoError(t, w.l.EditHousehold(ctx, w.row, agent.Fields{"phone": "0912345678"}))
	edited := false
	_, err = w.l.Sync(ctx, ts.URL, w.tl, agent.SyncOptions{IOTimeout: 10 * time.Second,
		Progress: func(p agent.Progress) {
			if p.Phase == "push" && !edited {
				edited = true
				require.NoError(t, w.l.EditHousehold(ctx, w.row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
				tick()
				require.NoError(t, w.m.EditHousehold(ctx, w.row, agent.Fields{"hamlet_code": w.other}))
				realSync(t, w.m, ts, w.tm)
			}
		}})
	require.NoError(t, err)
	require.True(t, edited)
	require.False(t, holdsRow(t, w.l, w.row), "the household moved out of L's hamlets")
	require.Equal(t, 1, keptAway(t, w.l), "L keeps its correction, not pushed yet")
	return w
}

// setOther gives team A the hamlet other, or takes it away.
func (w *keptAwayWorld) setOther(add bool) {
	w.t.Helper()
	var changed bool
	var err error
	if add {
		changed, err = w.ts.Admin.AddTeamHamlet(w.ctx, w.ts.TeamA, w.other)
	} else {
		changed, err = w.ts.Admin.RemoveTeamHamlet(w.ctx, w.ts.TeamA, w.other)
	}
	require.NoError(w.t, err)
	require.True(w.t, changed)
	tick()
}

// writeOverTwice has C write the name twice, L syncing in between: a
// back-fill's snapshot (read at L's cursor) then leaves the name out, its
// last version logged above, for the pull that follows.
func (w *keptAwayWorld) writeOverTwice() {
	w.t.Helper()
	for i, name := range []string{"Nguyễn Văn Bính Hai", "Nguyễn Văn Bính Ba"} {
		require.NoError(w.t, w.m.EditHousehold(w.ctx, w.row, agent.Fields{"head_name": name}))
		realSync(w.t, w.m, w.ts, w.tm)
		if i == 0 {
			realSync(w.t, w.l, w.ts, w.tl)
		}
	}
}

// moveBack has C move the household into L's hamlet, and L sync.
func (w *keptAwayWorld) moveBack() {
	w.t.Helper()
	require.NoError(w.t, w.m.EditHousehold(w.ctx, w.row, agent.Fields{"hamlet_code": w.kept}))
	realSync(w.t, w.m, w.ts, w.tm)
}

// requireCsLastName checks L holds C's last name and no conflict the
// server has not.
func (w *keptAwayWorld) requireCsLastName() {
	w.t.Helper()
	realSync(w.t, w.l, w.ts, w.tl)
	realSync(w.t, w.l, w.ts, w.tl)
	requireName(w.t, w.l, w.row, "Nguyễn Văn Bính Ba", "L holds C's last name")
	requireNoConflictBeyondServer(w.t, w.ts, w.l)
	require.Zero(w.t, keptAway(w.t, w.l), "the household is back: nothing kept")
}

// Review 30's D3, the back-fill: L's team gains the hamlet the household
// is in; L's push of the kept correction is taken, and L stores the
// household from the back-fill's snapshot, the correction with it, but
// kept it too. The team loses the hamlet again (nothing pending: nothing
// to keep), team C writes the name twice and moves the household into
// L's hamlet: L started the returning row from its stale kept correction
// and merged C's last name against it, a conflict the server never had.
func TestBackfilledRowForgetsWhatWasKept(t *testing.T) {
	t.Parallel()
	w := correctionKeptThroughMoveOut(t)
	w.setOther(true)
	realSync(t, w.l, w.ts, w.tl)
	realSync(t, w.l, w.ts, w.tl)
	requireName(t, w.l, w.row, "Nguyễn Văn Bính", "the back-fill brings the household back")
	require.Zero(t, keptAway(t, w.l), "the household is back: nothing kept")
	realSync(t, w.m, w.ts, w.tm)
	requireName(t, w.m, w.row, "Nguyễn Văn Bính", "the server took L's correction")

	w.setOther(false)
	realSync(t, w.l, w.ts, w.tl)
	require.False(t, holdsRow(t, w.l, w.row))
	w.writeOverTwice()
	w.moveBack()
	w.requireCsLastName()
}

// Review 31: the kept correction is pushed and taken while the household
// is away, and team C writes the name twice over it. When the household
// comes back (L's team regains its hamlet, or C moves it into L's), the
// row started from the correction the server had written over, and C's
// last name, based on C's first, which L never saw, met it as a
// concurrent write: a conflict the server never had. A kept write the
// server has taken is the server's to bring back (the snapshot, the
// move's re-log, or the write itself, marked: server/apply.go ownBack).
func TestAcknowledgedKeptWriteIsNotTakenBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		backfill bool // back by the team regaining the hamlet, else by a move
	}{
		{"hamlet regained", true},
		{"moved back", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := correctionKeptThroughMoveOut(t)
			realSync(t, w.l, w.ts, w.tl)
			n, err := w.l.Pending(w.ctx)
			require.NoError(t, err)
			require.Zero(t, n, "the correction was taken")
			require.Equal(t, 1, keptAway(t, w.l), "kept while the household is away")
			realSync(t, w.m, w.ts, w.tm)
			requireName(t, w.m, w.row, "Nguyễn Văn Bính", "the server took L's correction")
			w.writeOverTwice()
			if tc.backfill {
				w.setOther(true)
			} else {
				w.moveBack()
			}
			w.requireCsLastName()
		})
	}
}

// keptAway counts the writes r keeps of rows it dropped (not those it
// only notes as taken by the server).
func keptAway(t *testing.T, r *agent.Replica) int {
	t.Helper()
	var n int
	require.NoError(t, r.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM own_away WHERE NOT taken`).Scan(&n))
	return n
}

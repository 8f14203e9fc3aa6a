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

// Review 28: the deleter goes silent right after pushing its delete; a
// team-mate's edit made before the delete reached it is merged into the
// deleted row. The active replicas take both, the horizon passes the
// tombstone (the deleter is silent) and they drop the row. The deleter
// comes back, pulls the edit its delete hid and writes the hidden-edit
// `_deleted = false` (stamped to lose). The server logs it as superseded,
// with no tombstone before it (tombstoneFirst skips _deleted): the
// replicas that dropped the row take it alone, a live row of no field.
func TestHiddenEditOfASilentDeleterKeepsTheRowDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts, enroll := horizonServer(t, clk)
	d, td := enroll() // the deleter, silent after its delete
	b, tb := enroll()
	e, te := enroll() // the editor
	hamlet := ts.HamletsA[0]

	h, err := d.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan"})
	require.NoError(t, err)
	realSync(t, d, ts, td)
	for range 2 {
		realSync(t, b, ts, tb)
		realSync(t, e, ts, te)
	}
	realSync(t, d, ts, td)

	// E edits offline; D deletes, pushes the delete and goes silent.
	require.NoError(t, e.EditHousehold(ctx, h, agent.Fields{"phone": "0912345678"}))
	require.NoError(t, d.Delete(ctx, "households", h))
	realSync(t, d, ts, td)
	ts.WaitSessionsEnded(t) // D's session ends before time jumps
	realSync(t, e, ts, te)  // the edit merges into the deleted row
	clk.advance(190 * 24 * time.Hour)

	dropAtHorizon(t, ts, laptop{"b", b, tb}, laptop{"e", e, te})

	// D comes back before the server's collection: it sees the edit its
	// delete hid and writes the hidden edit.
	realSync(t, d, ts, td)
	realSync(t, d, ts, td)
	cs, err := d.Conflicts(ctx, true)
	require.NoError(t, err)
	require.NotEmpty(t, cs, "the deleter records the edit its delete hid")

	for name, rep := range map[string]*agent.Replica{"b": b, "e": e, "deleter": d} {
		tok := map[string]string{"b": tb, "e": te, "deleter": td}[name]
		realSync(t, rep, ts, tok)
		realSync(t, rep, ts, tok)
	}
	live := []string{}
	for _, name := range []string{"b", "e", "deleter"} {
		rep := map[string]*agent.Replica{"b": b, "e": e, "deleter": d}[name]
		if liveHousehold(t, rep, h) {
			sh, err := rep.Show(ctx, "households", h.String())
			require.NoError(t, err)
			t.Logf("replica %s: live, deleted=%v fields=%v", name, sh.Deleted, sh.Fields)
			live = append(live, name)
		}
		require.NoError(t, rep.Check(ctx), name)
	}
	// After the server's collection, each replica against a fresh clone.
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)
	nc, tnc := enroll()
	realSync(t, nc, ts, tnc)
	want, err := nc.Snapshot(ctx)
	require.NoError(t, err)
	for _, name := range []string{"b", "e", "deleter"} {
		rep := map[string]*agent.Replica{"b": b, "e": e, "deleter": d}[name]
		realSync(t, rep, ts, map[string]string{"b": tb, "e": te, "deleter": td}[name])
		got, err := rep.Snapshot(ctx)
		require.NoError(t, err)
		if diff := diffSnap(want, got); diff != "" {
			t.Logf("after collection, replica %s differs from the server:\n%s", name, diff)
		}
	}
	require.Empty(t, live, "replicas hold the deleted household live")
}

// Review 28 (D2): an evicted row kept, at 88fde70/2cff703, every own
// current version from acked_from on, also those logged before the
// eviction (which the relog of a later move brings back in their newest
// form). Here L's edit is pushed and acknowledged, its pull cut
// (pushOnly); another team moves the household out of L's scope and edits
// the same field twice over L's edit (a causal chain); L pulls the
// eviction and keeps its edit; the household is moved back and its
// re-log brings the chain's last version, based on the middle one: L
// records a conflict between its own edit and a write made over it,
// which neither the server nor anyone else has.
func TestEvictionKeepsNoAcknowledgedEditOverwritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	l, tl, c, tc, row := ackedEditBesideTeamC(t, ts, []string{g, h}, h)

	// C takes L's edit, moves the household out of L's scope and writes
	// the name twice, each over the last.
	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": g}))
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Ba"}))
	realSync(t, c, ts, tc)

	realSync(t, l, ts, tl) // the eviction
	require.False(t, holdsRow(t, l, row), "the household left L's scope")

	// C moves it back.
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	requireName(t, l, row, "Nguyễn Văn Bính Ba", "L holds the last correction")

	requireNoConflictBeyondServer(t, ts, l)
}

// Review 28, as above with one overwrite only: once the server's
// collection forgot the overwrite's base (forgetBases counts the devices
// of the row's hamlet, and L no longer covers it), the move's re-log
// brings a version with no base, and L takes its kept edit for a
// concurrent write.
func TestEvictionKeepsNoEditWhoseSuccessorLostItsBase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	l, tl, c, tc, row := ackedEditBesideTeamC(t, ts, []string{g, h}, h)

	realSync(t, c, ts, tc)
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": g}))
	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
	realSync(t, c, ts, tc)
	realSync(t, c, ts, tc)

	realSync(t, l, ts, tl) // the eviction
	require.False(t, holdsRow(t, l, row), "the household left L's scope")
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	t.Logf("server collection: %+v", st)

	require.NoError(t, c.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Bính Hai", d.Fields["head_name"])

	requireNoConflictBeyondServer(t, ts, l)
}

// Review 28: the same gap with a restore that loses. S restores a
// household deleted earlier (offline), and goes silent; A restores it too
// and deletes it again, later. The horizon passes A's second tombstone
// and the active replicas drop the row; S comes back and pushes its
// restore, which loses to the tombstone (superseded) and is logged alone:
// the replicas that dropped the row take it for a live row of no field.
func TestLosingRestoreKeepsADroppedRowDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts, enroll := horizonServer(t, clk)
	a, ta := enroll()
	b, tb := enroll()
	s, tsil := enroll()
	hamlet := ts.HamletsA[0]

	h, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Võ Thị Lan"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	require.NoError(t, a.Delete(ctx, "households", h))
	realSync(t, a, ts, ta)
	for range 2 {
		realSync(t, b, ts, tb)
		realSync(t, s, ts, tsil)
	}
	require.True(t, holdsRow(t, s, h))
	require.False(t, liveHousehold(t, s, h))

	require.NoError(t, s.Restore(ctx, "households", h)) // offline; S goes silent
	ts.WaitSessionsEnded(t)                             // S's last session ends before time jumps
	require.NoError(t, a.Restore(ctx, "households", h))
	require.NoError(t, a.Delete(ctx, "households", h))
	realSync(t, a, ts, ta)
	clk.advance(190 * 24 * time.Hour)

	dropAtHorizon(t, ts, laptop{"a", a, ta}, laptop{"b", b, tb})

	sum := realSync(t, s, ts, tsil)
	require.Zero(t, sum.Rejected)
	live := []string{}
	for _, name := range []string{"a", "b", "silent"} {
		rep := map[string]*agent.Replica{"a": a, "b": b, "silent": s}[name]
		tok := map[string]string{"a": ta, "b": tb, "silent": tsil}[name]
		realSync(t, rep, ts, tok)
		realSync(t, rep, ts, tok)
		if liveHousehold(t, rep, h) {
			sh, err := rep.Show(ctx, "households", h.String())
			require.NoError(t, err)
			t.Logf("replica %s: live, fields=%v", name, sh.Fields)
			live = append(live, name)
		}
	}
	require.Empty(t, live, "replicas hold the deleted household live")
}

// Review 28: a refused own write stays current until the volunteer
// discards it (applyAck does not roll it back), so 88fde70's "a refused
// write is not current: the replica rolled it back" is wrong, and
// keepAway keeps it while acked_from is set. M moves a household out of
// L's scope; L, not told yet, corrects its head's name (refused:
// out_of_scope) and another household's (taken: acked_from is set), and
// pulls the eviction in the same sync: the drop keeps the refused name.
// M moves the household back; it comes back from the move's re-log
// started from what L kept, with nothing it overwrote in its history.
func TestRefusedWriteNotKeptThroughADrop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	g, h := ts.OtherHamletA, ts.HamletsA[0]
	other, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{g, h})
	require.NoError(t, err)
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, other.ID)

	row, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	row2, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Trần Thị Hoa"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	require.True(t, holdsRow(t, l, row))

	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": g}))
	realSync(t, m, ts, tm)
	// L's corrections are made after the move by the rule: the server
	// dates the move by its own clock and L's edit by L's stamp (PROTOCOL
	// §15, §8.6), and L's clock is past the server's time now by more than
	// its offset's error. A 5 ms sleep was not: with L's clock 19 ms
	// behind (an offset too small to correct) the edit was taken as made
	// before the move, and nothing was refused, every time.
	laptopPast(t, l, ts.Server.Now())
	require.NoError(t, l.EditHousehold(ctx, row2, agent.Fields{"head_name": "Trần Thị Hòa"}))
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	realSync(t, l, ts, tl)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the edit of the household moved away is refused")
	require.False(t, holdsRow(t, l, row), "the household left L's scope")

	require.NoError(t, m.EditHousehold(ctx, row, agent.Fields{"hamlet_code": h}))
	realSync(t, m, ts, tm)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	t.Logf("L's household back from the move: %v", d.Fields)
	require.NoError(t, l.DiscardRejected(ctx, rej[0].ID))
	realSync(t, l, ts, tl)
	if d, err := l.Show(ctx, "households", row.String()); err == nil {
		t.Logf("L's household after discarding the refusal: %v", d.Fields)
	} else {
		t.Logf("L's household after discarding the refusal: %v", err)
	}

	c, tcn := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tcn)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server after discarding its refused write\n%s", diffSnap(want, got))
}

// requireNoConflictBeyondServer fails when l records a conflict, where the
// server's log holds none: its own edit and a write made over it.
func requireNoConflictBeyondServer(t *testing.T, ts *servertest.TS, l *agent.Replica) {
	t.Helper()
	ctx := context.Background()
	_, total, err := ts.Admin.RecentConflicts(ctx, func(string) bool { return true }, 100)
	require.NoError(t, err)
	require.Zero(t, total, "the server's conflict log is empty")
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, k := range cs {
		t.Logf("L's conflict: %s.%s loser %v winner %v", k.Table, k.Field, k.Loser, k.Winner)
	}
	require.Empty(t, cs, "L records conflicts the server has not: its edit against a write made over it")
}

// ackedEditBesideTeamC starts review 28's D2 pattern: team C (covering
// hamletsC) adds a household in hamlet, L (team A) takes it, and L's
// correction of the head's name is pushed and taken, its pull cut
// (pushOnly): L holds an acknowledged edit C has not pulled yet.
func ackedEditBesideTeamC(t *testing.T, ts *servertest.TS, hamletsC []string, hamlet string) (l *agent.Replica, tl string, c *agent.Replica, tc string, row syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", hamletsC)
	require.NoError(t, err)
	l, tl = realAgent(t, ts, ts.TeamA)
	c, tc = realAgent(t, ts, teamC.ID)
	row, err = c.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pushOnly(t, l, ts, tl)
	return l, tl, c, tc, row
}

package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestForkedCopyTellsALossKeptAway: offline, a volunteer corrects a
// household's head; a teammate corrects it later by the clock and syncs
// first; the team loses the household's hamlet before she syncs. Her
// correction reaches the server second and loses (superseded), and the
// rescope drops the household, keeping her correction aside (own_away)
// under her laptop's replica id. Her data folder is then copied, and the
// original syncs a new record: the copy's next sync finds it a copy, and
// it takes a new replica id. Her correction, answered under the old id,
// is in no outbox for the fork to renumber. When the team regains the
// hamlet (after the fork, or before it, the fork's clone bringing the
// household back), the copy must list her correction as lost, as the
// server logged it and as the original lists it.
func TestForkedCopyTellsALossKeptAway(t *testing.T) {
	t.Parallel()
	for _, backFirst := range []bool{false, true} {
		name := "back after the fork"
		if backFirst {
			name = "back before the fork"
		}
		t.Run(name, func(t *testing.T) { forkedCopyLossKeptAway(t, backFirst) })
	}
}

func forkedCopyLossKeptAway(t *testing.T, backFirst bool) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	home, hamlet := ts.HamletsA[0], ts.HamletsA[1]
	opts := agent.Options{Now: clk.now}
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "orig.db"), filepath.Join(dir, "copy.db")
	a, ta, hh := lossKeptAway(t, ts, clk, origPath)

	// The folder is copied; the original then pushes under the shared id.
	require.NoError(t, a.Close())
	restoreFile(t, origPath, copyPath)
	a = agenttest.Open(t, origPath, opts)
	cp := agenttest.Open(t, copyPath, opts)
	_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lê Thị Hoa", "phone": "0912000222"})
	require.NoError(t, err)
	clk.advance(time.Minute)
	osum := realSync(t, a, ts, ta)
	require.Nil(t, osum.Fork, "the original is not the copy: %+v", osum)

	regain := func() {
		changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
		require.NoError(t, err)
		require.True(t, changed)
		clk.advance(time.Minute)
	}
	if backFirst {
		regain()
	}
	tc := ta
	copts := agent.SyncOptions{IOTimeout: 10 * time.Second, SaveToken: func(s string) error { tc = s; return nil }}
	csum, err := cp.Sync(ctx, ts.URL, tc, copts)
	require.NoError(t, err)
	require.NotNil(t, csum.Fork, "the copy found itself a copy: %+v", csum)
	require.NotEqual(t, ta, tc, "the copy has a device of its own")
	if !backFirst {
		require.Equal(t, 1, keptAway(t, cp), "the fork and its clone keep her correction aside")
		regain()
		_, err = cp.Sync(ctx, ts.URL, tc, copts)
		require.NoError(t, err)
	}
	_, err = cp.Sync(ctx, ts.URL, tc, copts)
	require.NoError(t, err)

	d, err := cp.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household came back to the copy with the hamlet")
	require.Equal(t, "Quách Văn Tư Em", d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, cp, hh, "head_name"), "the copy lists her correction as lost")
	require.Zero(t, keptAway(t, cp), "nothing is kept once the household is back")

	// As the original, which did not fork, lists it.
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "the original lists her correction as lost")
}

// lossKeptAway makes, in a replica file at path (open, returned with its
// token), a correction of a household's head that the server answers
// superseded (a teammate's later correction synced first) in the sync
// whose rescope drops the household: the team lost its hamlet
// (ts.HamletsA[1]). The correction is kept aside (own_away).
func lossKeptAway(t *testing.T, ts *servertest.TS, clk *fakeClock, path string) (*agent.Replica, string, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	hamlet := ts.HamletsA[1]
	a, ta, hh := competingCorrections(t, ts, clk, path)
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "her correction reaches the server: %+v", sum)
	require.False(t, holdsRow(t, a, hh), "the household left with the hamlet")
	require.Equal(t, 1, keptAway(t, a), "her correction, answered superseded, is kept aside")
	return a, ta, hh
}

// competingCorrections opens a replica at path and enrolls it and a
// teammate's in team A; the teammate adds a household in ts.HamletsA[1],
// both sync; offline, she corrects its head, the teammate corrects it a
// minute later by the clock and syncs first. Her correction is still to
// push.
func competingCorrections(t *testing.T, ts *servertest.TS, clk *fakeClock, path string) (*agent.Replica, string, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	opts := agent.Options{Now: clk.now}
	a, err := agent.OpenWith(ctx, path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy của chị Lan")
	require.NoError(t, err)
	b := agenttest.New(t, opts)
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy của anh Minh")
	require.NoError(t, err)
	hh, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Quách Văn Tư", "phone": "0912000111"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)

	clk.advance(time.Minute)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tứ"}))
	clk.advance(time.Minute)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Quách Văn Tư Em"}))
	realSync(t, b, ts, tb)
	return a, ta, hh
}

// TestForkedCopyTellsALossItHeld: a volunteer's correction of a
// household's head reaches the server after a teammate's later one and
// loses (superseded), but her sync is cut before its pull meets the
// teammate's: her laptop still holds her correction as the household's
// head. Her data folder is copied; the original syncs (and lists the
// loss) and the team loses the household's hamlet. The copy's next sync
// finds it a copy: under its new replica id it drops the household,
// whose head is the old id's correction, answered superseded. It must
// keep that correction aside as one that lost, and list it as lost when
// the team regains the hamlet.
func TestForkedCopyTellsALossItHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	home, hamlet := ts.HamletsA[0], ts.HamletsA[1]
	opts := agent.Options{Now: clk.now}
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "orig.db"), filepath.Join(dir, "copy.db")
	a, ta, hh := competingCorrections(t, ts, clk, origPath)
	clk.advance(time.Minute)
	// Cut once her correction's answer is stored, before the pull.
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	pushed := false
	_, err := a.Sync(cut, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
		if p.Phase == "push" {
			pushed = true
			cancel()
		}
	}})
	require.Error(t, err, "the sync is cut")
	require.True(t, pushed, "her correction was answered before the cut")
	requireName(t, a, hh, "Quách Văn Tứ", "her laptop has not met the teammate's correction")
	require.Empty(t, myLostValues(t, a, hh, "head_name"), "nor listed her correction as lost")

	// The folder is copied; the original then pushes under the shared id.
	require.NoError(t, a.Close())
	restoreFile(t, origPath, copyPath)
	a = agenttest.Open(t, origPath, opts)
	cp := agenttest.Open(t, copyPath, opts)
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Lê Thị Hoa", "phone": "0912000222"})
	require.NoError(t, err)
	clk.advance(time.Minute)
	osum := realSync(t, a, ts, ta)
	require.Nil(t, osum.Fork, "the original is not the copy: %+v", osum)
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "the original lists her correction as lost")

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	tc := ta
	copts := agent.SyncOptions{IOTimeout: 10 * time.Second, SaveToken: func(s string) error { tc = s; return nil }}
	csum, err := cp.Sync(ctx, ts.URL, tc, copts)
	require.NoError(t, err)
	require.NotNil(t, csum.Fork, "the copy found itself a copy: %+v", csum)
	require.False(t, holdsRow(t, cp, hh), "the household left the copy with the hamlet")
	require.Equal(t, 1, keptAway(t, cp), "the copy keeps her correction aside")

	changed, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	_, err = cp.Sync(ctx, ts.URL, tc, copts)
	require.NoError(t, err)
	_, err = cp.Sync(ctx, ts.URL, tc, copts)
	require.NoError(t, err)
	requireName(t, cp, hh, "Quách Văn Tư Em", "the teammate's correction")
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, cp, hh, "head_name"), "the copy lists her correction as lost")
}

package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A copied data folder keeps a write of a household that moved out of its
// team's hamlets before the write was pushed (own_away): the copy corrects
// the head's name while its sync pushes, and team C moves the household
// away meanwhile. The original then pushes a write under the number the
// correction holds, and the copy's next sync finds it a copy: it
// renumbers the correction under its new id and clones again. The
// household comes back (team C moves it back, before that sync or after):
// the copy must hold what the server holds, its correction with it, and,
// where team C's later correction won, list its own as lost.
func TestForkWhileARowIsAwayKeepsItsOwnWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		overwritten, backFirst bool
	}{
		{"taken, back after the fork", false, false},
		{"taken, back before the fork", false, true},
		{"lost, back after the fork", true, false},
		{"lost, back before the fork", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 5 {
				if forkWhileAway(t, tc.overwritten, tc.backFirst) {
					return
				}
			}
			t.Fatal("the move never reached the copy's pull in five worlds")
		})
	}
}

// forkWhileAway runs the scenario; false: the move came too late for the
// copy's pull (a race with the server's notice), nothing checked.
func forkWhileAway(t *testing.T, overwritten, backFirst bool) bool {
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, other := ts.HamletsA[0], ts.HamletsA[1]
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, other)
	require.NoError(t, err)
	require.True(t, changed)
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{other, kept})
	require.NoError(t, err)
	tick()
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "orig.db"), filepath.Join(dir, "copy.db")
	orig := openFile(t, origPath)
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	m, tm := realAgent(t, ts, teamC.ID)
	hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Nguyễn Văn Bình"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, orig, ts, tok)
	// The original has pushed under the shared id when the folder is copied.
	require.NoError(t, orig.EditHousehold(ctx, hh, agent.Fields{"phone": "0912345678"}))
	realSync(t, orig, ts, tok)
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)
	orig = openFile(t, origPath)
	for i := range 3 {
		_, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ " + itoa(i)})
		require.NoError(t, err)
	}
	realSync(t, m, ts, tm)

	// The copy corrects the head's name while its sync pulls (nothing to
	// push), and team C moves the household away meanwhile: the pull's
	// later pages drop it, keeping the correction.
	cp := openFile(t, copyPath)
	tc := tok
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, SaveToken: func(s string) error { tc = s; return nil }}
	edited := false
	o := opts
	o.PullLimit = 1
	o.Progress = func(p agent.Progress) {
		if p.Phase == "pull" && !edited {
			edited = true
			require.NoError(t, cp.EditHousehold(ctx, hh, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
			tick()
			require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": other}))
			realSync(t, m, ts, tm)
		}
	}
	s1, err := cp.Sync(ctx, ts.URL, tc, o)
	require.NoError(t, err)
	require.True(t, edited)
	if holdsRow(t, cp, hh) {
		// The session's pull ended before the server's notice of the
		// move reached it: the scenario did not happen (the correction
		// is pushed next). Try again in a new world.
		t.Logf("the move came after the copy's pull (%+v): again", s1)
		return false
	}
	require.Equal(t, 1, keptAway(t, cp), "the copy keeps its correction, not pushed yet")

	if overwritten {
		require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"head_name": "Nguyễn Văn Bính Hai"}))
		realSync(t, m, ts, tm)
	}
	// The original writes under the number the copy's correction holds.
	_, err = orig.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Lê Thị Hoa", "phone": "0912000111"})
	require.NoError(t, err)
	osum := realSync(t, orig, ts, tok)
	require.Nil(t, osum.Fork, "the original is not the copy: %+v", osum)

	moveBack := func() {
		require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": kept}))
		realSync(t, m, ts, tm)
	}
	if backFirst {
		moveBack()
	}
	sum, err := cp.Sync(ctx, ts.URL, tc, opts)
	require.NoError(t, err)
	require.NotNil(t, sum.Fork, "the copy found itself a copy: %+v", sum)
	require.NotEqual(t, tok, tc, "the copy has a device of its own")
	if !backFirst {
		_, err = cp.Sync(ctx, ts.URL, tc, opts)
		require.NoError(t, err)
		moveBack()
	}
	for range 2 {
		_, err = cp.Sync(ctx, ts.URL, tc, opts)
		require.NoError(t, err)
	}

	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := cp.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the copy equals the server\n%s", diffSnap(want, got))
	if !overwritten {
		requireName(t, cp, hh, "Nguyễn Văn Bính", "the copy's correction, taken")
		return true
	}
	requireName(t, cp, hh, "Nguyễn Văn Bính Hai", "team C's later correction")
	require.Equal(t, []any{"Nguyễn Văn Bính"}, myLostValues(t, cp, hh, "head_name"), "the copy lists its correction as lost")
	return true
}

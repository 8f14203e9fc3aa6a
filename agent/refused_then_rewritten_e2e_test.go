package agent_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop moves a synced household to a hamlet its team has just lost;
// the server refuses the move (out_of_scope) and keeps the household where
// it was. The volunteer then moves it back, and corrects the head's name,
// with a plain edit rather than through the rejected list. That edit named
// its refused move as the version it overwrote: a version the server never
// held, so the server saw a write that did not know its own stored value,
// and logged the laptop's first hamlet as the loser of a conflict with the
// laptop's own later write (issue 17, wide seed 774991). A write over a
// refused version overwrites what the refused one did: the version it was
// based on.
func TestEditOverRefusedMoveIsNoConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ đã gửi"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": lost, "head_name": "Hộ chuyển đi"}))
	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Rejected, "the move is refused")

	tick()
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": kept, "head_name": "Hộ đã sửa"}))
	sum = realSync(t, a, ts, ta)
	require.Zero(t, sum.Rejected)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej, "the new writes fixed what was refused")

	requireNoConflictBeyondServer(t, ts, a)
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	want, err := b.Show(ctx, "households", id.String())
	require.NoError(t, err)
	got, err := a.Show(ctx, "households", id.String())
	require.NoError(t, err)
	require.Equal(t, "Hộ đã sửa", want.Fields["head_name"])
	require.Equal(t, want.Fields, got.Fields)
}

// The same, on a laptop whose data folder was copied: the copy syncs
// first, so the original finds itself a copy and continues under a new
// replica id. A refused change keeps its number under the new id, which
// the server never refused (it refused it under the old one), so a write
// naming it as its base was judged concurrent with the value its writer
// had seen: the server logged the household's first hamlet as losing to
// the laptop's own correction (issue 17, wide seed 774991). Both ways a
// write comes to name a refused base are covered: typed after the
// refusal arrived, and typed before it, over the move still waiting.
func TestEditOverRefusedMoveOnForkedCopyIsNoConflict(t *testing.T) {
	t.Parallel()
	for _, before := range []bool{false, true} {
		name := "typed after the refusal"
		if before {
			name = "typed before the refusal"
		}
		t.Run(name, func(t *testing.T) { editOverRefusedOnCopy(t, before) })
	}
}

func editOverRefusedOnCopy(t *testing.T, before bool) {
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	openAt := func(path string) *agent.Replica {
		r, err := agent.OpenWith(ctx, path, agent.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	orig := openAt(origPath)
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	id, err := orig.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ đã gửi"})
	require.NoError(t, err)
	realSync(t, orig, ts, tok)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, orig.EditHousehold(ctx, id, agent.Fields{"hamlet_code": lost}))
	if before {
		// Pushed and refused, the Ack lost: the laptop corrects the move
		// before it learns of the refusal.
		ackNeverArrives(t, orig, ts, tok)
	} else {
		sum := realSync(t, orig, ts, tok)
		require.Equal(t, 1, sum.Rejected, "the move is refused")
	}
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)

	// The copy, on another laptop, syncs a write of its own first.
	cp := openAt(copyPath)
	_, err = cp.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ của bản sao"})
	require.NoError(t, err)
	realSync(t, cp, ts, tok)

	orig = openAt(origPath)
	tick()
	require.NoError(t, orig.EditHousehold(ctx, id, agent.Fields{"hamlet_code": kept, "head_name": "Hộ đã sửa"}))
	s := realSync(t, orig, ts, tok)
	require.NotNil(t, s.Fork, "the original laptop learns it is one of two copies")
	realSync(t, orig, ts, tok)
	realSync(t, cp, ts, tok)

	requireNoConflictBeyondServer(t, ts, orig)
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	want, err := b.Show(ctx, "households", id.String())
	require.NoError(t, err)
	got, err := orig.Show(ctx, "households", id.String())
	require.NoError(t, err)
	require.Equal(t, "Hộ đã sửa", want.Fields["head_name"])
	require.Equal(t, want.Fields, got.Fields)
}

// ackNeverArrives syncs r through a proxy that lets only the Welcome of
// each connection through: the push is taken (or refused) and never
// acknowledged, and Sync gives up.
func ackNeverArrives(t *testing.T, r *agent.Replica, ts *servertest.TS, tok string) {
	t.Helper()
	err := syncCutAfter(r, ts, tok, func(int) int { return 1 })
	require.Error(t, err, "the Ack was to be lost")
	rej, err := r.Rejected(context.Background())
	require.NoError(t, err)
	require.Empty(t, rej, "the refusal has not arrived")
}

package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A new household the server refused whole, corrected here since (an edit
// not sent yet), is discarded by discarding its hamlet. The whole-row
// discard deleted the unsent edit from the outbox: the next push skipped
// its number, and the server, which takes a device's changes only in
// order, answered sequence_gap at every sync from then on: the laptop
// could send nothing ever again (simulation, fixing world, seed 4700405).
func TestDiscardingARefusedNewHouseholdWithAnUnsentEditKeepsSyncing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day, hh := refusedWholeHousehold(t)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"phone": "0912000111"}))

	refused := rejectedByField(t, l)
	require.Contains(t, refused, "hamlet_code")
	require.NoError(t, l.DiscardRejected(ctx, refused["hamlet_code"]))
	other, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Trần Văn Tư", "registered_on": day(-1)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)
	realSync(t, l, ts, tok)

	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)
	d, err := mate.Show(ctx, "households", other.String())
	require.NoError(t, err, "the household added after the discard reached the server")
	require.Equal(t, "Trần Văn Tư", d.Fields["head_name"])
	_, err = l.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household discarded is gone here")
	require.Empty(t, rejectedByField(t, l), "nothing of the discarded household is listed")
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// A new household refused whole, its head's name corrected here before
// the refusal was read: the volunteer discards the refused name (the field
// holds the correction), then the refused hamlet. The discarded name
// stayed in the row's history, where it passed for a version the server
// had taken, so the household was not discarded whole: it stayed here
// live without a hamlet, and went again partial (simulation, fixing
// world, seed 4802253, a tutoring record).
func TestDiscardingARefusedNewHouseholdAfterDiscardingAnOverwrittenField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, day := laptopAhead(t)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	// The name is corrected while the push that adds the household waits
	// for its Ack.
	edited := make(chan error, 1)
	frames := func(n int) int {
		if n == 0 {
			return 2 // the Welcome and the Ack; then the connection is cut
		}
		return 1 << 20
	}
	_ = syncCutAfterGated(l, ts, tok, frames, agent.SyncOptions{IOTimeout: 5 * time.Second}, func(i int) {
		if i == 1 {
			edited <- l.EditHousehold(ctx, hh, agent.Fields{"head_name": "Lê Thị Hoà"})
		}
	})
	require.NoError(t, <-edited)
	realSync(t, l, ts, tok)

	refused := rejectedByField(t, l) // the first of each field: the adding's
	require.Contains(t, refused, "head_name")
	require.Contains(t, refused, "hamlet_code")
	require.NoError(t, l.DiscardRejected(ctx, refused["head_name"]))
	require.NoError(t, l.DiscardRejected(ctx, refused["hamlet_code"]))
	d, err := l.Show(ctx, "households", hh.String())
	require.Error(t, err, "a household without its hamlet is discarded whole: %+v", d)
	require.Empty(t, rejectedByField(t, l), "its other refused writes went with it")
	realSync(t, l, ts, tok)
	require.Empty(t, rejectedByField(t, l))
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Review 37b of 420ce5d: a household refused whole, with an unsent edit,
// discarded whole, leaves nothing behind: the drop kept the edit to bring
// back with the row (own_away), until a re-clone; and the status bar
// counted it as waiting to be sent.
func TestDiscardingARefusedNewHouseholdWholeLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, _, hh := refusedWholeHousehold(t)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"phone": "0912000111"}))
	refused := rejectedByField(t, l)
	require.Contains(t, refused, "hamlet_code")
	require.NoError(t, l.DiscardRejected(ctx, refused["hamlet_code"]))
	_, err := l.Show(ctx, "households", hh.String())
	require.Error(t, err)
	st, err := l.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Pending, "nothing waits to be sent that the volunteer wrote and kept")
	var away int
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away`).Scan(&away))
	require.Zero(t, away, "own_away keeps the discarded household's unsent edit")
	realSync(t, l, ts, tok)
	realSync(t, l, ts, tok)
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM own_away`).Scan(&away))
	require.Zero(t, away, "own_away keeps the discarded household's unsent edit after its answer dropped it")
}

// Review 37b of 420ce5d: a discarded unsent edit renumbered by a fork
// came back in the rejected list, for a household no longer on the laptop
// (the renumbering cleared its mark).
func TestDiscardedEditRenumberedByAForkStaysDiscarded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	ahead := &fakeClock{t: real.now().Add(5 * 24 * time.Hour)}
	openAt := func(path string, now func() time.Time) *agent.Replica {
		r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }
	l := openAt(origPath, ahead.now)
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)
	require.NoError(t, l.Close())
	restoreFile(t, origPath, copyPath)

	// The copy writes under the next number and syncs first.
	cp := openAt(copyPath, ahead.now)
	_, err = cp.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Trần Văn Tư", "registered_on": day(-1)})
	require.NoError(t, err)
	realSync(t, cp, ts, tok)

	l = openAt(origPath, ahead.now)
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"phone": "0912000111"}))
	refused := rejectedByField(t, l)
	require.Contains(t, refused, "hamlet_code")
	require.NoError(t, l.DiscardRejected(ctx, refused["hamlet_code"]))
	_, err = l.Show(ctx, "households", hh.String())
	require.Error(t, err)
	s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NotNil(t, s.Fork, "the original finds it is a copy")
	tok2, err := l.PendingToken(ctx)
	require.NoError(t, err)
	require.NoError(t, l.TokenSaved(ctx))
	realSync(t, l, ts, tok2)
	realSync(t, l, ts, tok2)
	require.Empty(t, rejectedByField(t, l), "nothing of the discarded household is listed")
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// refusedWholeHousehold: a laptop whose clock runs ahead adds a household
// registered three days ahead of the server's day and syncs: the server
// refuses it whole.
func refusedWholeHousehold(t *testing.T) (ts *servertest.TS, l *agent.Replica, tok string, day func(d int) string, hh syncproto.RowID) {
	t.Helper()
	ts, l, tok, day = laptopAhead(t)
	hh, err := l.AddHousehold(context.Background(), agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Thị Hoa", "registered_on": day(3)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)
	return ts, l, tok, day, hh
}

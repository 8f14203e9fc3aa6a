package agent

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestToldNoteWrittenAgainIsNotLost: a sync read the note of a hamlet
// lost; before it forgot it, another process's sync (the app's, or the
// command line's) forgot it and told it, and a later rescope there noted
// another loss. The first sync tells neither (the first was told, the
// second it never read) and leaves the note for the next sync, which
// tells it: no loss goes untold, none twice.
func TestToldNoteWrittenAgainIsNotLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	note := func(l untoldLoss) {
		require.NoError(t, r.inCounted(ctx, func(t *txn) error { return t.setUntoldLoss(l) }))
	}
	read := func() SyncSummary {
		s := SyncSummary{}
		run := &syncRun{r: r, sum: &s}
		require.NoError(t, run.tellLost(ctx))
		return s
	}

	note(untoldLoss{Hamlets: []string{"h1"}, Dropped: 2})
	first, other := read(), read()
	told, err := r.Told(ctx, other, false)
	require.NoError(t, err)
	require.Equal(t, []string{"h1"}, told.ScopeChange.Lost, "the other process takes the note and tells it")
	note(untoldLoss{Hamlets: []string{"h2"}, Dropped: 3})

	told, err = r.Told(ctx, first, true)
	require.NoError(t, err)
	require.Nil(t, told.ScopeChange, "told by the other process; the note now is one it never read")
	ns, err := r.Notices(ctx)
	require.NoError(t, err)
	require.Empty(t, ns, "nothing kept of a loss told elsewhere")

	next := read()
	require.Equal(t, []string{"h2"}, next.ScopeChange.Lost, "the loss noted since waits for the next sync")
	told, err = r.Told(ctx, next, true)
	require.NoError(t, err)
	require.Equal(t, []string{"h2"}, told.ScopeChange.Lost)
	require.Equal(t, 3, told.ScopeChange.Dropped)
	ns, err = r.Notices(ctx)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	raw, err := r.meta(ctx, r.db, metaLostUntold)
	require.NoError(t, err)
	require.Empty(t, raw, "told: forgotten")
}

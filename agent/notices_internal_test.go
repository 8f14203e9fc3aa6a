package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The notices a laptop keeps for the app are bounded however long no one
// reads them, numbered for good (a page left open since they were read
// dismisses none kept later), and dismissed up to the last one a page
// showed.
func TestNoticesBoundedAndDismissedUpToShown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	keep := func(i int) {
		s := SyncSummary{ScopeChange: &ScopeChange{Lost: []string{fmt.Sprintf("h%d", i)}, Dropped: i}}
		_, err := r.Told(ctx, s, true)
		require.NoError(t, err)
	}
	for i := 1; i <= 3*maxNotices; i++ {
		keep(i)
	}
	ns, err := r.Notices(ctx)
	require.NoError(t, err)
	require.Len(t, ns, maxNotices, "weeks of syncs unread keep the latest")
	require.Equal(t, int64(2*maxNotices+1), ns[0].ID)
	require.Equal(t, int64(3*maxNotices), ns[len(ns)-1].ID)
	raw, err := r.meta(ctx, r.db, metaNotices)
	require.NoError(t, err)
	require.Less(t, len(raw), 8<<10, "the agent_meta value stays small")

	shown := ns[len(ns)-1].ID
	keep(1000) // kept while the page was open
	require.NoError(t, r.DismissNotices(ctx, shown))
	ns, err = r.Notices(ctx)
	require.NoError(t, err)
	require.Len(t, ns, 1, "the one kept since the page stays")
	require.Equal(t, []string{"h1000"}, ns[0].Scope.Lost)
	require.NoError(t, r.DismissNotices(ctx, ns[0].ID))
	ns, err = r.Notices(ctx)
	require.NoError(t, err)
	require.Empty(t, ns)
	require.NoError(t, r.DismissNotices(ctx, shown), "a stale page read again")
	keep(7)
	ns, err = r.Notices(ctx)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	require.Greater(t, ns[0].ID, shown+1, "numbered after every one given")

	_, err = r.Told(ctx, SyncSummary{Pushed: 3, Conflicts: 1}, true)
	require.NoError(t, err, "nothing to keep")
	ns, err = r.Notices(ctx)
	require.NoError(t, err)
	require.Len(t, ns, 1)
}

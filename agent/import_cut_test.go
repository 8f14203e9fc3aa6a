package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
)

// walCut is a context cancelled at the first look after the replica's
// write-ahead log has grown past limit bytes: database/sql looks at every
// statement, so an import is cut between two of its INSERTs once the
// pages its small cache let go are in the log, uncommitted.
type walCut struct {
	context.Context
	wal   string
	limit int64
	once  sync.Once
	done  chan struct{}
}

func (c *walCut) check() {
	if fi, err := os.Stat(c.wal); err == nil && fi.Size() > c.limit {
		c.once.Do(func() { close(c.done) })
	}
}

func (c *walCut) Done() <-chan struct{} { c.check(); return c.done }

func (c *walCut) Err() error {
	select {
	case <-c.Done():
		return context.Canceled
	default:
		return nil
	}
}

// TestImportCutAfterSpillLeavesNothing: the import writes its rows in one
// transaction through a small page cache, so pages reach the log before
// the commit; cut there, the replica holds none of the rows, now and after
// it is opened again (log recovery), and a new import of the whole file
// goes through.
//
// cutRows is enough for the cut: the 8 MB cache lets pages go into the log
// from about 12,500 households on, and the log passes 2 MB between the
// 14,500th and the 15,000th (an import of 14,500 commits uncut). A third
// more than that keeps a margin; a change that moved the spill past it
// fails the test (no error, or a log under 2 MB), it does not pass it
// silently. More rows would only make the whole import and the closing
// check of the replica longer.
func TestImportCutAfterSpillLeavesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "replica.db")
	ctx := context.Background()
	r, err := agent.Open(ctx, path)
	require.NoError(t, err)
	const cutRows = 20000
	sh := householdSheet(hamletA, cutRows)
	cut := &walCut{Context: ctx, wal: path + "-wal", limit: 2 << 20, done: make(chan struct{})}
	_, err = r.Import(cut, sh, agent.ImportOptions{})
	require.ErrorIs(t, err, context.Canceled, "the import is cut once 2 MB of its pages are in the log")
	fi, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(2<<20), "pages were written to the log before the cut")
	requireNoHouseholds := func(r *agent.Replica) {
		t.Helper()
		hs, err := r.List(ctx, "households", agent.ListOptions{})
		require.NoError(t, err)
		require.Zero(t, len(hs), "households held: nothing half-imported")
		n, err := r.Pending(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "no change logged")
	}
	requireNoHouseholds(r)

	require.NoError(t, r.Close())
	r = agenttest.Open(t, path)
	requireNoHouseholds(r)
	res, err := r.Import(ctx, sh, agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, cutRows, res.Imported)
	n, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, cutRows*9, n)
}

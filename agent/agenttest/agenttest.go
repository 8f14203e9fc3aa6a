package agenttest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// Open opens (or creates) a replica at path and registers a cleanup that
// checks its invariants, then closes it.
func Open(t testing.TB, path string, opts ...agent.Options) *agent.Replica {
	t.Helper()
	var o agent.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	r, err := agent.OpenWith(context.Background(), path, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		// A bound on a hang, not a timing: on a loaded machine (tests 8
		// at once on 2 cores) the check of a large replica took over 30 s.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := r.Check(ctx); err != nil {
			t.Errorf("replica %s: invariants: %v", path, err)
		}
		require.NoError(t, r.Close())
	})
	return r
}

// New opens a fresh replica in t.TempDir().
func New(t testing.TB, opts ...agent.Options) *agent.Replica {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "replica.db"), opts...)
}

package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWALCheckSaltUnreadAtWriteLock (helper 196): a write transaction
// that could not read the -wal's header (walHead: not empty, salt 0, as
// when opening it fails with too many open files) noted salt 0 and its
// count: the check then took the salts the -wal has for a log begun
// anew, raised its base to that count, above what replica.db alone held,
// and a healthy replica was told as damaged.
func TestWALCheckSaltUnreadAtWriteLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.checkpoint(ctx))
	write := func(unread bool) {
		tx, err := r.begin(ctx)
		require.NoError(t, err)
		if unread {
			tx.walEmpty, tx.walSalt = false, 0 // walHead could not read the header
		}
		require.NoError(t, tx.exec(`INSERT INTO agent_meta (key, value) VALUES ('h196', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1`))
		require.NoError(t, tx.commit())
	}
	write(false)
	write(false)
	write(true)
	db, err := os.ReadFile(path)
	require.NoError(t, err)
	wal, err := os.ReadFile(path + "-wal")
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "replica.db")
	require.NoError(t, os.WriteFile(copyPath, db, 0o600))
	require.NoError(t, os.WriteFile(copyPath+"-wal", wal, 0o600))
	require.NoError(t, checkWAL(ctx, copyPath), "a replica and its own -wal")
}

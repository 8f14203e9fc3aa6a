package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// TestBadIDInTheWALRefused: a replica whose -wal holds frames is looked
// at through checkWAL's held read (not a connection of its own): a
// replica id there that is not an id is refused as damage, and the file
// and its -wal are left as they were.
func TestBadIDInTheWALRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	r, err := agent.Open(ctx, src)
	require.NoError(t, err)
	addHousehold(t, r, "Lê Văn D")
	require.NoError(t, r.Close())

	// The bad id is written into the -wal, which is copied with the file
	// while the writer still has them open (its close would fold the log
	// into the file).
	db, err := sqlOpen("file:" + src + "?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`PRAGMA wal_autocheckpoint = 0`)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE agent_meta SET value = 'không phải mã' WHERE key = 'replica_id'`)
	require.NoError(t, err)
	path := filepath.Join(dir, "copy.db")
	for _, suf := range []string{"", "-wal"} {
		copyFile(t, src+suf, path+suf)
	}
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	beforeWAL, err := os.ReadFile(path + "-wal")
	require.NoError(t, err)
	require.NotEmpty(t, beforeWAL, "the -wal holds the bad id")

	_, err = agent.Open(ctx, path)
	require.Error(t, err)
	require.True(t, errors.Is(err, agent.ErrCorrupt), "%v", err)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	afterWAL, err := os.ReadFile(path + "-wal")
	require.NoError(t, err)
	require.Equal(t, before, after, "the file is left untouched")
	require.Equal(t, beforeWAL, afterWAL, "its -wal is left untouched")
}

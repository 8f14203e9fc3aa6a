package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteTxnCountedOnlyWhenItWrote (helper 194): a write transaction
// that changed nothing is not counted and commits no frame into the -wal
// (an idle sync paid an fsync for each); one that changed a row, or only
// the schema, is counted.
func TestWriteTxnCountedOnlyWhenItWrote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	defer r.Close()
	state := func() (txnNo, walSize int64) {
		tx, err := r.beginRead(ctx)
		require.NoError(t, err)
		defer tx.rollback()
		n, err := tx.metaInt(metaTxnNo)
		require.NoError(t, err)
		fi, err := os.Stat(path + "-wal")
		require.NoError(t, err)
		return n, fi.Size()
	}
	for _, c := range []struct {
		name    string
		do      func(t *txn) error
		counted bool
	}{
		{"nothing", func(*txn) error { return nil }, false},
		{"a read", func(t *txn) error { _, err := t.metaInt(metaWALBase); return err }, false},
		{"an update of no row", func(t *txn) error {
			return t.exec(`UPDATE agent_meta SET value = 1 WHERE key = 'no such key'`)
		}, false},
		{"a row", func(t *txn) error { return t.setMeta("helper194", 1) }, true},
		{"a row deleted", func(t *txn) error { return t.exec(`DELETE FROM agent_meta WHERE key = 'helper194'`) }, true},
		{"the schema only", func(t *txn) error { return t.exec(`CREATE TABLE helper194 (x)`) }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n0, w0 := state()
			tx, err := r.begin(ctx)
			require.NoError(t, err)
			require.NoError(t, c.do(tx))
			require.NoError(t, tx.commit())
			n1, w1 := state()
			if c.counted {
				require.Equal(t, n0+1, n1)
				require.Greater(t, w1, w0, "the -wal grew")
			} else {
				require.Equal(t, n0, n1)
				require.Equal(t, w0, w1, "no frame written")
			}
		})
	}
}

// TestWriteAfterFolderMovedKeepsTheBase: the data folder moved (mv) while
// the app has the replica open, and the app writes on (its background
// sync, say): SQLite writes the moved file's -wal through the handle it
// holds, while a look at the -wal beside the old path finds none. Taken
// for an empty log, the write noted that the file alone held every
// transaction up to it (wal_base) though the moved -wal held frames the
// file lacked, and once the app was killed the next command told the
// volunteer a healthy replica was damaged (a CI run of
// TestWALCheckFolderMovedWhileOpen under load, "round 0 status after the
// app was killed"). A write whose path no longer names its file knows
// nothing of the log beside it, and raises no base.
func TestWriteAfterFolderMovedKeepsTheBase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	from, to := filepath.Join(base, "a"), filepath.Join(base, "b")
	require.NoError(t, os.Mkdir(from, 0o700))
	r, err := Open(ctx, filepath.Join(from, "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	write := func(v int) {
		tx, err := r.begin(ctx)
		require.NoError(t, err)
		require.NoError(t, tx.setMeta("moved_folder", v))
		require.NoError(t, tx.commit())
	}
	counts := func() (txnNo, walBase int64) {
		tx, err := r.beginRead(ctx)
		require.NoError(t, err)
		defer tx.rollback()
		n, err := tx.metaInt(metaTxnNo)
		require.NoError(t, err)
		b, err := tx.metaInt(metaWALBase)
		require.NoError(t, err)
		return n, b
	}
	write(1) // the -wal holds frames now
	n0, base0 := counts()
	require.NoError(t, os.Rename(from, to))
	write(2)
	n1, base1 := counts()
	require.Equal(t, n0+1, n1, "the write is counted")
	require.Equal(t, base0, base1, "a write on the moved folder's file raises no base: its -wal holds frames the file alone lacks")
	fi, err := os.Stat(filepath.Join(to, "replica.db-wal"))
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(walHeader), "the moved -wal holds frames")
}

package agent

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// Only SQLite's own verdict of damage (corrupt, not a database) marks a
// replica damaged. A plain SQL error while opening (a migration that does not
// apply, a statement of ours that is wrong) is not the file's fault: marking
// it would stop every write and send the volunteer to `repair` for a bug.
func TestPlainSQLErrorIsNotDamage(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	_, sqlErr := db.ExecContext(context.Background(), `CREATE TABLE t (x); CREATE TABLE t (x)`)
	require.Error(t, sqlErr, "a plain SQL error (SQLITE_ERROR)")

	path := filepath.Join(t.TempDir(), "replica.db")
	got := classifyOpen(path, sqlErr)
	var fe *FileError
	if errors.As(got, &fe) {
		require.NotErrorIs(t, fe.Kind, ErrCorrupt, "a plain SQL error is not damage: %v", got)
	}
	m, err := readMark(path)
	require.NoError(t, err)
	require.Nil(t, m, "no damage marker for a plain SQL error")
}

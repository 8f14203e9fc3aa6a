package agent

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The row tables' columns an open found are reused in the process only
// for tables whose CREATE statements are the same: a replica whose table
// has a column more (ALTER TABLE rewrites its statement) gets its own
// answer, and the replicas' maps are their own.
func TestColumnsSeenByTableStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string) *Replica {
		r, err := Open(ctx, filepath.Join(dir, name))
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	a := open("a.db")
	b := open("b.db")
	require.Equal(t, a.cols, b.cols)
	require.Equal(t, a.colKinds, b.colKinds)
	b.cols["households"] = append(b.cols["households"], "not_a_column")
	delete(b.colKinds["households"], "members_count")
	require.NotContains(t, a.cols["households"], "not_a_column")
	require.Contains(t, a.colKinds["households"], "members_count")
	c := open("c.db")
	require.NotContains(t, c.cols["households"], "not_a_column", "the kept answer is not the replica's maps")
	require.Contains(t, c.colKinds["households"], "members_count")
	require.NoError(t, c.Close())

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "c.db"))
	require.NoError(t, err)
	_, err = db.Exec(`ALTER TABLE households ADD COLUMN zz_extra INTEGER`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	c = open("c.db")
	require.Equal(t, append(append([]string(nil), a.cols["households"]...), "zz_extra"), c.cols["households"])
	require.Equal(t, a.cols["visits"], c.cols["visits"])
	d := open("d.db")
	require.Equal(t, a.cols, d.cols)
}

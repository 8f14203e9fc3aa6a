package agent_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/schema"
)

// A replica an earlier release was creating when it was killed sits in its
// -wal file (here killed between the data model's migrations and the
// agent's own): the main file's header has no application id yet. It opens
// (and its creation finishes) instead of being "not a Hamlet replica" for
// good; a file that is someone else's stays refused.
func TestOpenFinishesAReplicaLeftInItsWAL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, app := range map[string]int64{"ours": agent.ApplicationID, "another program's": 0x12345678} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src.db"), filepath.Join(dir, "replica.db")
			db, err := sql.Open("sqlite", "file:"+src+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
			require.NoError(t, err)
			db.SetMaxOpenConns(1)
			_, err = db.Exec(fmt.Sprintf(`PRAGMA application_id = %d`, app))
			require.NoError(t, err)
			require.NoError(t, migrate.Apply(ctx, db, schema.MigrationSet, schema.Current().SQLiteMigrations()))
			// Copied while open: what a killed process leaves.
			for _, suf := range []string{"", "-wal", "-shm"} {
				b, err := os.ReadFile(src + suf)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(dst+suf, b, 0o600))
			}
			require.NoError(t, db.Close())
			head := make([]byte, 72)
			f, err := os.Open(dst)
			require.NoError(t, err)
			_, err = f.ReadAt(head, 0)
			f.Close()
			require.NoError(t, err)
			require.Equal(t, []byte{0, 0, 0, 0}, head[68:72], "the application id is only in the -wal file")

			r, err := agent.Open(ctx, dst)
			if app != agent.ApplicationID {
				require.ErrorIs(t, err, agent.ErrForeign)
				return
			}
			require.NoError(t, err)
			defer r.Close()
			st, err := r.Status(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, st.ReplicaID)
			id, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Sau khi mở lại"})
			require.NoError(t, err)
			_, err = r.Show(ctx, "households", id.String())
			require.NoError(t, err)
			require.NoError(t, r.Check(ctx))
		})
	}
}

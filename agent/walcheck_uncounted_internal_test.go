package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWALCheckUncountedWriteBeginsLogAgain (helper 196): a write on r.db
// (not a counted transaction: photos, afterPull's durable_sent, the
// sync's ends) that begins the -wal again after a checkpoint leaves
// wal_base one transaction low: replica.db from before the last counted
// transaction the checkpoint copied, paired with that -wal, passes the
// check, and that transaction's rows are gone. Without the uncounted
// write the same pair is refused.
func TestWALCheckUncountedWriteBeginsLogAgain(t *testing.T) {
	t.Parallel()
	for _, uncounted := range []bool{false, true} {
		name := "counted only"
		if uncounted {
			name = "an uncounted write on r.db between"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "replica.db")
			r, err := Open(ctx, path)
			require.NoError(t, err)
			defer r.Close()
			_, err = r.db.ExecContext(ctx, `CREATE TABLE h196 (x)`)
			require.NoError(t, err)
			write := func(q string) {
				tx, err := r.begin(ctx)
				require.NoError(t, err)
				require.NoError(t, tx.exec(q))
				require.NoError(t, tx.commit())
			}
			write(`INSERT INTO agent_meta (key, value) VALUES ('h196', 1)`)
			require.NoError(t, r.checkpoint(ctx))
			old, err := os.ReadFile(path) // replica.db before the household
			require.NoError(t, err)
			write(`INSERT INTO h196 VALUES ('household')`)
			require.NoError(t, r.checkpoint(ctx))
			if uncounted {
				_, err := r.afterPull(ctx, 0, 0, 42) // durable_sent, as at the end of every pull
				require.NoError(t, err)
			}
			write(`UPDATE agent_meta SET value = value + 1 WHERE key = 'h196'`)
			wal, err := os.ReadFile(path + "-wal")
			require.NoError(t, err)

			restored := filepath.Join(t.TempDir(), "replica.db")
			require.NoError(t, os.WriteFile(restored, old, 0o600))
			require.NoError(t, os.WriteFile(restored+"-wal", wal, 0o600))
			err = checkWAL(ctx, restored)
			if err == nil {
				r2, err := Open(ctx, restored)
				require.NoError(t, err)
				defer r2.Close()
				var n int
				require.NoError(t, r2.db.QueryRowContext(ctx, `SELECT count(*) FROM h196`).Scan(&n))
				t.Logf("restored pair accepted; households: %d", n)
			}
			require.Error(t, err, "replica.db without the household, with a -wal after it, accepted")
		})
	}
}

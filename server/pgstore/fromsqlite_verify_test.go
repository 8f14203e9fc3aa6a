package pgstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// CopyFromSQLite's verification (row count and checksum per table) catches
// one value that differs in PostgreSQL from what was read from SQLite: a
// value changed, a row dropped, in a synced table, the log or the server's
// own tables. The copy is then not committed: the target holds nothing.
func TestCopyFromSQLiteVerificationCatchesAChangedValue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ts := servertest.Start(t, servertest.WithDataDir(dir))
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	h := ts.HamletsA[0]
	var cs []syncproto.Change
	for i := 0; i < 20; i++ {
		row := uuid.New()
		cs = append(cs, w.Write("households", row, "hamlet_code", syncproto.String(h), h),
			w.Write("households", row, "head_name", syncproto.String(fmt.Sprintf("Hộ %d", i)), h),
			w.Write("households", row, "members_count", syncproto.Int(int64(i+1)), h)) // 0 is refused: no household has no members
	}
	_, err := c.Push(1, cs)
	require.NoError(t, err)
	c.Close()
	ts.Close()
	src, err := sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })

	cases := []struct {
		table, alter string // "": copied as read, which verifies
	}{
		{"", ""},
		{"households", `UPDATE households SET head_name = head_name || '.' WHERE id = (SELECT min(id) FROM households)`},
		{"households", `UPDATE households SET members_count = members_count + 1 WHERE id = (SELECT min(id) FROM households)`},
		{"households", `DELETE FROM households WHERE id = (SELECT min(id) FROM households)`},
		{"sync_log", `UPDATE sync_log SET val = val || '.'::bytea WHERE seq = (SELECT max(seq) FROM sync_log WHERE field = 'head_name')`},
		{"sync_rows", `UPDATE sync_rows SET deleted = NOT deleted WHERE "row" = (SELECT "row" FROM sync_rows ORDER BY "row" LIMIT 1)`},
		{"devices", `UPDATE devices SET cursor = cursor + 1`},
		{"replicas", `UPDATE replicas SET max_seq = max_seq - 1 WHERE max_seq > 0`},
	}
	for _, tc := range cases {
		t.Run(tc.table+" "+tc.alter, func(t *testing.T) {
			st, err := Open(ctx, pgtest.MigratedDB(t, Migrate), Options{Logger: servertest.Logger()})
			require.NoError(t, err)
			defer st.Close()
			altered := false
			afterCopy = func(ctx context.Context, tx pgx.Tx, table string) error {
				if table != tc.table {
					return nil
				}
				tag, err := tx.Exec(ctx, tc.alter)
				if err == nil && tag.RowsAffected() == 0 {
					err = fmt.Errorf("%s changed no row", tc.alter)
				}
				altered = err == nil
				return err
			}
			defer func() { afterCopy = nil }()
			tables, err := st.CopyFromSQLite(ctx, src, 7, nil)
			if tc.table == "" {
				require.NoError(t, err)
				require.NotEmpty(t, tables)
				return
			}
			require.True(t, altered, "the hook ran")
			require.Error(t, err)
			require.Contains(t, err.Error(), "verify "+tc.table+": ")
			require.Contains(t, err.Error(), "nothing was committed")
			var n int
			require.NoError(t, st.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sync_log) + (SELECT count(*) FROM households) + (SELECT count(*) FROM devices)`).Scan(&n))
			require.Zero(t, n, "nothing of the copy was committed")
		})
	}
}

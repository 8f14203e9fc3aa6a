package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/server/storetest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func TestSQLiteStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) server.Store {
		s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "hamlet.db"), sqlitestore.Options{Synchronous: "NORMAL"})
		require.NoError(t, err)
		return s
	})
}

// A field's value is stored once, in its row table: the versions blob of
// sync_rows does not copy it (issue 20), and the row still reads whole.
func TestVersionsLeaveValuesToTheRowTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hamlet.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	defer s.Close()
	row, origin := uuid.New(), uuid.New()
	name := "Nguyễn Thị Hồng Nhung, tổ 7"
	vs := map[string]syncproto.Version{
		"hamlet_code": {Value: syncproto.String("32002-01"), HLC: syncproto.MakeHLC(1_780_000_000_000, 0), Dot: syncproto.Dot{Replica: origin, Seq: 1}},
		"head_name":   {Value: syncproto.String(name), HLC: syncproto.MakeHLC(1_780_000_000_000, 1), Dot: syncproto.Dot{Replica: origin, Seq: 2}},
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		return tx.PutRow("households", row, server.RowState{Scope: "32002-01", Versions: vs})
	}))
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var blob []byte
	var held string
	require.NoError(t, db.QueryRow(`SELECT versions FROM sync_rows WHERE row = ?`, row[:]).Scan(&blob))
	require.NoError(t, db.QueryRow(`SELECT head_name FROM households WHERE id = ?`, row.String()).Scan(&held))
	require.Equal(t, name, held)
	require.NotContains(t, string(blob), name, "the blob copies the value")
	require.NotContains(t, string(blob), "32002-01")
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, vs, st.Versions)
		return nil
	}))
}

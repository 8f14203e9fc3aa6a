package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/versions"
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

// A database an earlier build wrote keeps each row's values in its
// versions blob (format 0xc1): it reads as before, and collection rewrites
// the blob in the current format, which leaves the values to the row table.
func TestVersionsOfAnEarlierBuildReadAndUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hamlet.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	defer s.Close()
	row, origin := uuid.New(), uuid.New()
	vs := map[string]syncproto.Version{}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for i, f := range []string{"hamlet_code", "head_name", "members_count"} {
			v := map[string]syncproto.Value{"hamlet_code": syncproto.String("32002-01"), "head_name": syncproto.String("Trần Văn Cường"),
				"members_count": syncproto.Int(6)}[f]
			c := syncproto.Change{Table: "households", Row: row, Field: f, Value: v, Scope: "32002-01",
				HLC: syncproto.MakeHLC(1_780_000_000_000, uint16(i)), Dot: syncproto.Dot{Replica: origin, Seq: uint64(i + 1)}}
			vs[f] = syncproto.VersionOf(&c)
			e := server.LogEntry{Change: c}
			if err := tx.Append(&e); err != nil {
				return err
			}
		}
		return tx.PutRow("households", row, server.RowState{Scope: "32002-01", Versions: vs})
	}))
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	var idx int64
	require.NoError(t, db.QueryRow(`SELECT idx FROM replicas WHERE id = ?`, origin[:]).Scan(&idx))
	old, err := versions.EncodeCompact(nil, vs, func(syncproto.ReplicaID) (int64, error) { return idx, nil })
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE sync_rows SET versions = ? WHERE row = ?`, old, row[:])
	require.NoError(t, err)

	read := func() map[string]syncproto.Version {
		var got map[string]syncproto.Version
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			st, _, err := tx.Row("households", row)
			got = st.Versions
			return err
		}))
		return got
	}
	require.Equal(t, vs, read(), "the earlier build's blob")
	_, err = server.Collect(ctx, s, server.GCOptions{})
	require.NoError(t, err)
	var blob []byte
	require.NoError(t, db.QueryRow(`SELECT versions FROM sync_rows WHERE row = ?`, row[:]).Scan(&blob))
	require.True(t, versions.InTable(blob), "collection rewrote it: %x", blob)
	require.NotContains(t, string(blob), "Trần Văn Cường")
	require.Less(t, len(blob), len(old))
	require.Equal(t, vs, read(), "the same versions")
}

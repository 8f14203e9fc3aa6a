package storetest

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// testVersionsBesideTheRowTable: a row's versions read back whole though
// the store keeps each value once, in the row table (issue 20): a value
// the row table holds otherwise (the server's own hamlet_code of a row,
// passed as a field to materialise) stays the version's; a state saved
// with no field to materialise still reads its new values; a field the
// table has no column for keeps its value; the snapshot reads the same.
func testVersionsBesideTheRowTable(t *testing.T, s store) {
	origin, other := uuid.New(), uuid.New()
	hh, visit := uuid.New(), uuid.New()
	ver := func(v syncproto.Value, seq uint64) syncproto.Version {
		return syncproto.Version{Value: v, HLC: syncproto.MakeHLC(1_780_000_000_000+int64(seq), uint16(seq)), Dot: syncproto.Dot{Replica: origin, Seq: seq},
			Base: syncproto.Dot{Replica: other, Seq: seq + 100}}
	}
	first := map[string]syncproto.Version{
		"hamlet_code": ver(syncproto.String("32002-01"), 1), "head_name": ver(syncproto.String("Nguyễn Văn A"), 2),
		"phone": ver(syncproto.String("0912345678"), 3), "members_count": ver(syncproto.Int(4), 4),
		"notes": ver(syncproto.Null(), 5), "has_smartphone": ver(syncproto.Bool(true), 6),
		syncproto.TombstoneField: ver(syncproto.Bool(false), 7),
	}
	visitVers := map[string]syncproto.Version{
		"hamlet_code": ver(syncproto.String("32002-01"), 8), "household_id": ver(syncproto.String(hh.String()), 9),
		"lat": ver(syncproto.Float(9.1769), 10), "members_count": ver(syncproto.Int(2), 11), // no such column on visits
	}
	read := func(table string, id uuid.UUID) map[string]syncproto.Version {
		var got map[string]syncproto.Version
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			st, ok, err := tx.Row(table, id)
			require.NoError(t, err)
			require.True(t, ok)
			got = st.Versions
			all, err := tx.LoadRows([]server.RowRef{{Table: table, Row: id}})
			require.NoError(t, err)
			require.Equal(t, got, all[server.RowRef{Table: table, Row: id}].Versions, "Row and LoadRows read alike")
			return nil
		}))
		return got
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		require.NoError(t, tx.PutRow("households", hh, server.RowState{Scope: "32002-01", Versions: first}))
		return tx.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: "visits", Row: visit}, State: &server.RowState{Scope: "32002-01", Parent: hh, Versions: visitVers},
			// The row's scope written over the change's label.
			Fields: map[string]syncproto.Value{"hamlet_code": syncproto.String("32002-02")}}})
	}))
	require.Equal(t, first, read("households", hh))
	require.Equal(t, visitVers, read("visits", visit), "the version keeps its value, the row table the scope")

	// A state saved alone (no field to materialise) still reads its values.
	second := map[string]syncproto.Version{}
	for f, v := range first {
		second[f] = v
	}
	second["head_name"] = ver(syncproto.String("Nguyễn Văn Bình"), 20)
	second["notes"] = ver(syncproto.String("ghi chú"), 21)
	second["members_count"] = ver(syncproto.Int(5), 22)
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		return tx.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: "households", Row: hh}, State: &server.RowState{Scope: "32002-01", Versions: second}}})
	}))
	require.Equal(t, second, read("households", hh))

	page, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: []string{"32002-01"}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 2)
	for _, r := range page {
		want := map[server.RowRef]map[string]syncproto.Version{{Table: "households", Row: hh}: second, {Table: "visits", Row: visit}: visitVers}[r.Ref]
		require.Len(t, r.Fields, len(want), r.Ref.Table)
		for _, fv := range r.Fields {
			require.Equal(t, want[fv.Field], fv.Version, "%s %s", r.Ref.Table, fv.Field)
		}
	}
}

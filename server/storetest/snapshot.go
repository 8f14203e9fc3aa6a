package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// testSnapshotRows: SnapshotRows pages through the rows of the asked
// scopes in (table, row) order, with every field's version (tombstoned
// ones too), skips other scopes, and resumes exactly after a row;
// SnapshotCount counts the same rows; LogFloor is 0 on a fresh store.
func testSnapshotRows(t *testing.T, s store) {
	origin, base := uuid.New(), uuid.New()
	type put struct {
		ref     server.RowRef
		scope   string
		deleted bool
	}
	var puts []put
	for i := 0; i < 7; i++ {
		for _, tbl := range []string{"visits", "households"} {
			scope := []string{"32002-01", "32002-02", "32002-09"}[i%3]
			puts = append(puts, put{ref: server.RowRef{Table: tbl, Row: uuid.New()}, scope: scope, deleted: i == 4})
		}
	}
	versions := func(p put) map[string]syncproto.Version {
		return map[string]syncproto.Version{
			"notes":                  {Value: syncproto.String("ghi chú " + p.ref.Row.String()[:4]), HLC: 2000, Dot: syncproto.Dot{Replica: origin, Seq: 5}, Base: syncproto.Dot{Replica: base, Seq: 2}},
			"members_count":          {Value: syncproto.Int(3), HLC: 1000, Dot: syncproto.Dot{Replica: origin, Seq: 1}},
			"lat":                    {Value: syncproto.Float(9.1769), HLC: 1000, Dot: syncproto.Dot{Replica: origin, Seq: 2}},
			"phone":                  {Value: syncproto.Null(), HLC: 1000, Dot: syncproto.Dot{Replica: origin, Seq: 3}},
			syncproto.TombstoneField: {Value: syncproto.Bool(p.deleted), HLC: 1500, Dot: syncproto.Dot{Replica: base, Seq: 9}},
		}
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for _, p := range puts {
			if err := tx.PutRow(p.ref.Table, p.ref.Row, server.RowState{Scope: p.scope, Deleted: p.deleted, Versions: versions(p)}); err != nil {
				return err
			}
		}
		return nil
	}))
	scopes := []string{"32002-01", "32002-02", "32002-03"}
	var want []put
	for _, p := range puts {
		if p.scope != "32002-09" {
			want = append(want, p)
		}
	}
	slices.SortFunc(want, func(a, b put) int {
		if a.ref.Table != b.ref.Table {
			return bytes.Compare([]byte(a.ref.Table), []byte(b.ref.Table))
		}
		return bytes.Compare(a.ref.Row[:], b.ref.Row[:])
	})
	n, err := s.SnapshotCount(ctx, scopes)
	require.NoError(t, err)
	require.Equal(t, uint64(len(want)), n)

	var got []server.SnapshotRow
	var after server.RowRef
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20, "paging does not end")
		page, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: scopes, After: after, Limit: 3})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 3)
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Ref
	}
	require.Len(t, got, len(want))
	for i, p := range want {
		require.Equal(t, p.ref, got[i].Ref, "row %d", i)
		require.Equal(t, p.scope, got[i].Scope)
		vs := map[string]syncproto.Version{}
		var names []string
		for _, f := range got[i].Fields {
			vs[f.Field] = f.Version
			names = append(names, f.Field)
		}
		require.True(t, slices.IsSorted(names), "fields by name: %v", names)
		require.Equal(t, versions(p), vs)
	}
	// Resuming after a row returns exactly the rows after it.
	page, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: scopes, After: want[3].ref, Limit: 100})
	require.NoError(t, err)
	require.Len(t, page, len(want)-4)
	require.Equal(t, want[4].ref, page[0].Ref)

	// MaxFields lets a store stop early, but only past the budget: a page
	// is the rows right after After, and one shorter than Limit that is
	// not the end holds a row (after the first) that passes MaxFields, so
	// the server knows to send more (snapshotChunk).
	for _, maxFields := range []int{1, 5, 7, 12, 1000} {
		for start := -1; start < len(want); start++ {
			var from server.RowRef
			if start >= 0 {
				from = want[start].ref
			}
			page, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: scopes, After: from, Limit: 4, MaxFields: maxFields})
			require.NoError(t, err)
			rest := want[start+1:]
			require.LessOrEqual(t, len(page), min(4, len(rest)))
			fields := 0
			for i, r := range page {
				require.Equal(t, rest[i].ref, r.Ref, "max %d, after row %d: row %d", maxFields, start, i)
				fields += len(r.Fields)
			}
			if len(page) < min(4, len(rest)) {
				require.Greater(t, len(page), 1, "max %d, after row %d", maxFields, start)
				require.Greater(t, fields, maxFields, "max %d, after row %d: stopped short of the budget", maxFields, start)
				if len(page) > 2 { // else the first row alone passed it
					require.LessOrEqual(t, fields-len(page[len(page)-1].Fields), maxFields, "max %d, after row %d: read past the row that passed it", maxFields, start)
				}
			}
		}
	}

	none, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: []string{"99999-99"}, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none)

	floor, err := s.LogFloor(ctx, scopes)
	require.NoError(t, err)
	require.Zero(t, floor)
}

// testSnapshotLosses: SnapshotLosses lists the conflicts logged on the
// given rows of one table, by row and then as logged, with both dots; not
// those of other rows or of another table. Asked for more rows than one
// statement takes, it answers the same.
func testSnapshotLosses(t *testing.T, s store) {
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	loser, winner := uuid.New(), uuid.New()
	mk := func(table string, row uuid.UUID, field string, seq uint64) syncproto.Conflict {
		return syncproto.Conflict{Key: syncproto.FieldKey{Table: table, Row: row, Field: field}, Scope: "32002-01",
			Loser:  syncproto.Version{Value: syncproto.String("thua"), HLC: 1000, Dot: syncproto.Dot{Replica: loser, Seq: seq}},
			Winner: syncproto.Version{Value: syncproto.String("thắng"), HLC: 2000, Dot: syncproto.Dot{Replica: winner, Seq: seq + 100}}}
	}
	logged := []syncproto.Conflict{
		mk("households", ids[2], "phone", 1),
		mk("households", ids[1], "head_name", 2),
		mk("households", ids[0], "phone", 3), // a row not asked for
		mk("visits", ids[1], "notes", 4),     // another table
		mk("households", ids[2], "head_name", 5),
		mk("households", ids[3], "phone", 6), // a row not asked for, between those asked for below
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for _, c := range logged {
			if err := tx.AddConflict(c, time.Now()); err != nil {
				return err
			}
		}
		return nil
	}))
	lw := func(c syncproto.Conflict) syncproto.LostWrite {
		return syncproto.LostWrite{Row: c.Key.Row, Field: c.Key.Field, Loser: c.Loser.Dot, Winner: c.Winner.Dot}
	}
	want := []syncproto.LostWrite{lw(logged[1]), lw(logged[0]), lw(logged[4])}
	got, err := s.SnapshotLosses(ctx, "households", []uuid.UUID{ids[1], ids[2]})
	require.NoError(t, err)
	require.Equal(t, want, got)

	many := []uuid.UUID{ids[1], ids[2]} // a chunk's rows: hundreds, in id order
	for range 450 {
		many = append(many, uuid.New())
	}
	slices.SortFunc(many, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	got, err = s.SnapshotLosses(ctx, "households", many)
	require.NoError(t, err)
	require.Equal(t, want, got, "asked among 452 rows")

	got, err = s.SnapshotLosses(ctx, "households", []uuid.UUID{ids[3]})
	require.NoError(t, err)
	require.Equal(t, []syncproto.LostWrite{lw(logged[5])}, got, "one row")
	got, err = s.SnapshotLosses(ctx, "field_reports", ids)
	require.NoError(t, err)
	require.Empty(t, got)
}

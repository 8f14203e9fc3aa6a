package storetest

import (
	"math"
	"testing"
	"time"

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

// testForgetBases: ForgetBases clears the base of the fields whose current
// version is a write it names, and only those; the values stay; a row it
// does not hold is no error.
func testForgetBases(t *testing.T, s store) {
	origin, other := uuid.New(), uuid.New()
	row := uuid.New()
	vs := map[string]syncproto.Version{}
	for i, f := range []string{"hamlet_code", "head_name", "phone", "members_count"} {
		v := syncproto.String("giá trị " + f)
		switch f {
		case "hamlet_code":
			v = syncproto.String("32002-01")
		case "members_count":
			v = syncproto.Int(3)
		}
		vs[f] = syncproto.Version{Value: v, HLC: syncproto.MakeHLC(1_780_000_000_000, uint16(i)), Dot: syncproto.Dot{Replica: origin, Seq: uint64(10 + i)},
			Base: syncproto.Dot{Replica: other, Seq: uint64(1 + i)}}
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		return tx.PutRow("households", row, server.RowState{Scope: "32002-01", Versions: vs})
	}))
	ref := server.RowRef{Table: "households", Row: row}
	dots := map[string][]syncproto.Dot{
		"head_name":     {{Replica: origin, Seq: 5}, vs["head_name"].Dot}, // the current one among others
		"phone":         {{Replica: origin, Seq: 12345}},                  // not the current version
		"members_count": {vs["members_count"].Dot},
		"notes":         {{Replica: origin, Seq: 99}}, // no such field
	}
	var n int
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		var err error
		n, err = tx.ForgetBases(ref, dots)
		return err
	}))
	require.Equal(t, 2, n)
	want := map[string]syncproto.Version{}
	for f, v := range vs {
		if f == "head_name" || f == "members_count" {
			v.Base = syncproto.Dot{}
		}
		want[f] = v
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, st.Versions)
		n, err = tx.ForgetBases(ref, dots)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to clear")
		n, err = tx.ForgetBases(server.RowRef{Table: "households", Row: uuid.New()}, dots)
		require.NoError(t, err)
		require.Zero(t, n, "no such row")
		return nil
	}))
}

// testCollectForgetsBases: collection clears a version's base once every
// device the horizon counts holds the log durably past the version's
// entry, and never the tombstone's; the floor under every hamlet rises to
// that line, so a device it left out (silent past the horizon here) clones
// again. A device that never acknowledged a pull does not hold bases.
func testCollectForgetsBases(t *testing.T, s store) {
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	live, silent := enroll(t, s, m, now), enroll(t, s, m, now.Add(-300*24*time.Hour))
	enroll(t, s, m, now) // enrolled and never used: it acknowledged nothing
	origin := uuid.New()
	row := uuid.New()
	vs := map[string]syncproto.Version{}
	var seqs []uint64
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		var last map[string]syncproto.Dot = map[string]syncproto.Dot{}
		for i, f := range []string{"head_name", "notes", "head_name", "notes", syncproto.TombstoneField, syncproto.TombstoneField} {
			v := syncproto.String(f + string(rune('a'+i)))
			if f == syncproto.TombstoneField {
				v = syncproto.Bool(i == 4)
			}
			c := change("households", row, f, v, "32002-01", origin, uint64(i+1))
			c.Base = last[f]
			last[f] = c.Dot
			vs[f] = syncproto.VersionOf(&c)
			e := server.LogEntry{Change: c}
			require.NoError(t, tx.Append(&e))
			seqs = append(seqs, e.Seq)
		}
		return tx.PutRow("households", row, server.RowState{Scope: "32002-01", Versions: vs})
	}))
	bases := func() map[string]syncproto.Dot {
		out := map[string]syncproto.Dot{}
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			st, _, err := tx.Row("households", row)
			for f, v := range st.Versions {
				out[f] = v.Base
			}
			return err
		}))
		return out
	}
	head, err := s.Head(ctx)
	require.NoError(t, err)
	behind := seqs[1] // past the first edits, short of the current versions
	opts := server.GCOptions{SilentBefore: now.Add(-180 * 24 * time.Hour)}
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: live.ID, At: now, Cursor: &behind},
		{DeviceID: silent.ID, At: now.Add(-300 * 24 * time.Hour), Cursor: &behind}}))
	st, err := s.Collect(ctx, opts)
	require.NoError(t, err)
	require.Zero(t, st.Bases, "a device the horizon counts, behind the versions, holds their bases")
	for f, b := range bases() {
		require.Equal(t, vs[f].Base, b, f)
	}
	floor, err := s.LogFloor(ctx, []string{server.EveryHamlet})
	require.NoError(t, err)
	require.Zero(t, floor)

	// The live device passes the versions; the silent one, past the
	// horizon, does not hold them back: it clones again when it returns,
	// the floor under every hamlet above its cursor.
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: live.ID, At: now, Cursor: &head}}))
	st, err = s.Collect(ctx, opts)
	require.NoError(t, err)
	require.Equal(t, 2, st.Bases)
	got := bases()
	require.Zero(t, got["head_name"])
	require.Zero(t, got["notes"])
	require.Equal(t, vs[syncproto.TombstoneField].Base, got[syncproto.TombstoneField], "the tombstone keeps its base")
	require.NotZero(t, got[syncproto.TombstoneField])
	floor, err = s.LogFloor(ctx, []string{server.EveryHamlet})
	require.NoError(t, err)
	require.Equal(t, head, floor, "a device the horizon left out, behind the cleared versions, clones again")
}

// testVersionsKeepWhatTheRowTableCannot: a value the row table would not
// give back to the bit stays in the blob. SQLite stores a REAL -0.0 as 0
// (it keeps whole floats as integers), and the schema takes -0.0 for a
// latitude: the version must still read -0.0, as every replica holds it.
func testVersionsKeepWhatTheRowTableCannot(t *testing.T, s store) {
	origin := uuid.New()
	report := uuid.New()
	negZero := math.Copysign(0, -1)
	vs := map[string]syncproto.Version{
		"hamlet_code": {Value: syncproto.String("32002-01"), HLC: syncproto.MakeHLC(1_780_000_000_000, 0), Dot: syncproto.Dot{Replica: origin, Seq: 1}},
		"lat":         {Value: syncproto.Float(negZero), HLC: syncproto.MakeHLC(1_780_000_000_000, 1), Dot: syncproto.Dot{Replica: origin, Seq: 2}},
		"lng":         {Value: syncproto.Float(105.15), HLC: syncproto.MakeHLC(1_780_000_000_000, 2), Dot: syncproto.Dot{Replica: origin, Seq: 3}},
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		return tx.PutRow("field_reports", report, server.RowState{Scope: "32002-01", Versions: vs})
	}))
	bits := func(fs map[string]syncproto.Version) map[string]uint64 {
		out := map[string]uint64{}
		for f, v := range fs {
			if v.Value.Kind() == syncproto.KindFloat {
				out[f] = math.Float64bits(v.Value.AsFloat())
			}
		}
		return out
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("field_reports", report)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, bits(vs), bits(st.Versions), "Row")
		return nil
	}))
	page, err := s.SnapshotRows(ctx, server.SnapshotQuery{Scopes: []string{"32002-01"}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
	got := map[string]syncproto.Version{}
	for _, fv := range page[0].Fields {
		got[fv.Field] = fv.Version
	}
	require.Equal(t, bits(vs), bits(got), "snapshot")
}

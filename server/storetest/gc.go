package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// testHorizon: the horizon of a set of scopes is the lowest durable cursor
// of the active devices covering any of them; revoked and silent devices do
// not count, and scopes no device covers have none.
func testHorizon(t *testing.T, s store) {
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	d1, d2, d3 := enroll(t, s, m, now), enroll(t, s, m, now), enroll(t, s, m, now)
	c1, c2, c3 := uint64(5), uint64(9), uint64(3)
	old := now.Add(-200 * 24 * time.Hour)
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{
		{DeviceID: d1.ID, At: now, Cursor: &c1}, {DeviceID: d2.ID, At: now, Cursor: &c2}, {DeviceID: d3.ID, At: old, Cursor: &c3},
	}))
	h, err := s.Horizon(ctx, []string{"32002-01"}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, uint64(3), h, "every device counts without a silence cutoff")
	h, err = s.Horizon(ctx, []string{"32002-02", "32002-01"}, now.Add(-180*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, uint64(5), h, "the silent device no longer holds the horizon back")
	require.NoError(t, s.RevokeDevice(ctx, d1.ID, now))
	h, err = s.Horizon(ctx, []string{"32002-01"}, now.Add(-180*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, uint64(9), h, "a revoked device does not count")
	h, err = s.Horizon(ctx, []string{"99999-99"}, time.Time{})
	require.NoError(t, err)
	require.Zero(t, h, "no device covers the scope")
}

// testCollectTruncates: Collect with Truncate drops the whole log at or
// below the lowest durable cursor of each scope's active devices; a silent
// device stops holding it back; the head survives a log emptied at its top,
// so seqs are never handed out again.
func testCollectTruncates(t *testing.T, s store) {
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	live, silent := enroll(t, s, m, now), enroll(t, s, m, now.Add(-300*24*time.Hour))
	origin := uuid.New()
	row, dead := uuid.New(), uuid.New()
	var seqs []uint64
	var tomb uint64
	vs := map[uuid.UUID]map[string]syncproto.Version{row: {}, dead: {}}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for i, f := range []string{"head_name", "notes", "head_name", "notes"} {
			c := change("households", row, f, syncproto.String(f+string(rune('a'+i))), "32002-01", origin, uint64(i+1))
			vs[row][f] = syncproto.VersionOf(&c)
			e := server.LogEntry{Change: c}
			require.NoError(t, tx.Append(&e))
			seqs = append(seqs, e.Seq)
		}
		c := change("households", dead, "_deleted", syncproto.Bool(true), "32002-01", origin, 5)
		vs[dead]["_deleted"] = syncproto.VersionOf(&c)
		e := server.LogEntry{Change: c}
		require.NoError(t, tx.Append(&e))
		tomb = e.Seq
		require.NoError(t, tx.PutRow("households", row, server.RowState{Scope: "32002-01", Versions: vs[row]}))
		require.NoError(t, tx.PutRow("households", dead, server.RowState{Scope: "32002-01", Deleted: true, TombSeq: tomb, Versions: vs[dead]}))
		return nil
	}))
	head, err := s.Head(ctx)
	require.NoError(t, err)
	one := seqs[0]
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: live.ID, At: now, Cursor: &head}, {DeviceID: silent.ID, At: now.Add(-300 * 24 * time.Hour), Cursor: &one}}))

	// The silent device still counts: only what it holds goes.
	st, err := s.Collect(ctx, server.GCOptions{Truncate: true})
	require.NoError(t, err)
	require.Zero(t, st.Rows)
	require.Equal(t, 1, st.Truncated)
	p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01"}, Limit: 100})
	require.NoError(t, err)
	require.Len(t, p.Entries, 4)

	// Silent past the cutoff: everything the live device holds goes, the
	// tombstoned row too.
	st, err = s.Collect(ctx, server.GCOptions{Truncate: true, SilentBefore: now.Add(-180 * 24 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	require.Equal(t, 4, st.Entries)
	require.Equal(t, 3, st.Truncated)
	require.Positive(t, st.Floors)
	p, err = s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01"}, Limit: 100})
	require.NoError(t, err)
	require.Empty(t, p.Entries)
	require.Equal(t, head, p.To, "the head survives an emptied log")
	got, err := s.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, head, got)
	// The live row's state stays (new replicas clone from it).
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.True(t, ok)
		require.Len(t, st.Versions, 2)
		_, ok, err = tx.Row("households", dead)
		require.NoError(t, err)
		require.False(t, ok)
		// The collected row's id is kept, and only its (server/apply.go refuses
		// to make it again).
		gone, err := tx.Collected([]server.RowRef{{Table: "households", Row: dead}, {Table: "households", Row: row}, {Table: "households", Row: uuid.New()}})
		require.NoError(t, err)
		require.Equal(t, map[server.RowRef]bool{{Table: "households", Row: dead}: true}, gone)
		// The next entry continues the log.
		e := server.LogEntry{Change: change("households", row, "notes", syncproto.String("z"), "32002-01", origin, 6)}
		require.NoError(t, tx.Append(&e))
		require.Equal(t, head+1, e.Seq)
		return nil
	}))
}

// testConflictArchive: ConflictsBefore reads the entries recorded before a
// time, by id, with the loser's value; DeleteConflicts removes those up to
// the id an archive holds, never a newer one.
func testConflictArchive(t *testing.T, s store) {
	now := time.Now().Truncate(time.Millisecond)
	row := uuid.New()
	loser, winner := uuid.New(), uuid.New()
	mk := func(f string, v syncproto.Value, seq uint64) syncproto.Conflict {
		return syncproto.Conflict{Key: syncproto.FieldKey{Table: "households", Row: row, Field: f}, Scope: "32002-01",
			Loser:  syncproto.Version{Value: v, HLC: syncproto.MakeHLC(now.UnixMilli(), 1), Dot: syncproto.Dot{Replica: loser, Seq: seq}},
			Winner: syncproto.Version{Value: syncproto.String("thắng"), HLC: syncproto.MakeHLC(now.UnixMilli(), 2), Dot: syncproto.Dot{Replica: winner, Seq: seq}}}
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		require.NoError(t, tx.AddConflict(mk("phone", syncproto.String("0912345678"), 1), now.Add(-100*24*time.Hour)))
		require.NoError(t, tx.AddConflict(mk("members_count", syncproto.Int(5), 2), now.Add(-95*24*time.Hour)))
		require.NoError(t, tx.AddConflict(mk("notes", syncproto.String("mới"), 3), now.Add(-time.Hour)))
		return nil
	}))
	cut := now.Add(-90 * 24 * time.Hour)
	var got []archive.Conflict
	require.NoError(t, s.ConflictsBefore(ctx, cut, func(c archive.Conflict) error { got = append(got, c); return nil }))
	require.Len(t, got, 2)
	require.Equal(t, "phone", got[0].Field)
	require.Equal(t, "0912345678", got[0].Loser.Value)
	require.Equal(t, "string", got[0].Loser.Kind)
	require.Equal(t, int64(5), got[1].Loser.Value)
	require.Equal(t, loser.String(), got[1].Loser.Replica)
	require.Equal(t, winner.String(), got[1].Winner.Replica)
	require.Equal(t, row.String(), got[1].Row)
	require.Equal(t, now.Add(-95*24*time.Hour).UTC(), got[1].At)
	require.Less(t, got[0].ID, got[1].ID)

	// Only what the archive holds goes: up to the first entry's id.
	n, err := s.DeleteConflicts(ctx, cut, got[0].ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var rest []archive.Conflict
	require.NoError(t, s.ConflictsBefore(ctx, now.Add(time.Hour), func(c archive.Conflict) error { rest = append(rest, c); return nil }))
	require.Len(t, rest, 2)
	require.Equal(t, []string{"members_count", "notes"}, []string{rest[0].Field, rest[1].Field})
}

// testCollectMovedRow: a row moved from one hamlet to another left its
// entries in the first (its changes there and its eviction). Collecting
// its tombstone takes them too, and only once every device of that
// hamlet is past the tombstone; both hamlets' floors rise to it.
func testCollectMovedRow(t *testing.T, s store) {
	_, m := fixture(t, s) // one team covering 32002-01 and 32002-02
	now := time.Now()
	d := enroll(t, s, m, now)
	origin := uuid.New()
	row, other := uuid.New(), uuid.New()
	from, to := "32002-01", "32002-02"
	var tomb uint64
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		seq := uint64(0)
		vs := map[string]syncproto.Version{}
		put := func(r uuid.UUID, f string, v syncproto.Value, scope string) uint64 {
			seq++
			c := change("households", r, f, v, scope, origin, seq)
			if r == row {
				vs[f] = syncproto.VersionOf(&c)
			}
			e := server.LogEntry{Change: c}
			require.NoError(t, tx.Append(&e))
			return e.Seq
		}
		put(row, "head_name", syncproto.String("X"), from)
		put(other, "head_name", syncproto.String("Y"), from)
		put(row, "hamlet_code", syncproto.String(to), to)
		put(row, "head_name", syncproto.String("X"), to) // re-logged under the new hamlet
		ev := server.LogEntry{Kind: server.EntryEviction, NewScope: to, Change: syncproto.Change{Table: "households", Row: row, Scope: from}}
		require.NoError(t, tx.Append(&ev))
		require.NoError(t, tx.AddScopeMove(server.ScopeMove{Table: "households", Row: row, Household: row, From: from, To: to,
			HLC: syncproto.MakeHLC(now.UnixMilli(), 0), ServerSeq: ev.Seq, At: now}))
		// A move of a row that stays: only the collected row's moves go.
		require.NoError(t, tx.AddScopeMove(server.ScopeMove{Table: "households", Row: other, Household: other, From: to, To: from,
			HLC: syncproto.MakeHLC(now.UnixMilli(), 1), ServerSeq: ev.Seq, At: now}))
		tomb = put(row, "_deleted", syncproto.Bool(true), to)
		require.NoError(t, tx.PutRow("households", row, server.RowState{Scope: to, Deleted: true, TombSeq: tomb, Versions: vs}))
		return nil
	}))
	logOf := func(scope string) []server.LogEntry {
		p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{scope}, Limit: 100})
		require.NoError(t, err)
		return p.Entries
	}
	require.Len(t, logOf(from), 3)
	head, err := s.Head(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: d.ID, At: now, Cursor: &head}}))
	st, err := s.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	for _, sc := range []string{from, to} {
		for _, e := range logOf(sc) {
			require.NotEqual(t, row, e.Change.Row, "an entry of the collected row is left in %s (kind %d, %s)", sc, e.Kind, e.Change.Field)
		}
		floor, err := s.LogFloor(ctx, []string{sc})
		require.NoError(t, err)
		require.Equal(t, tomb, floor, "the floor of %s", sc)
	}
	require.Len(t, logOf(from), 1, "the other row's entry stays")
	// Scope history is read only for rows the store holds (server/scope.go):
	// a collected row's moves would be kept forever for nothing.
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		moves, err := tx.ScopeMoves("households", row)
		require.NoError(t, err)
		require.Empty(t, moves, "the collected row's scope moves are left behind")
		moves, err = tx.ScopeMoves("households", other)
		require.NoError(t, err)
		require.Len(t, moves, 1, "the other row's move stays")
		return nil
	}))
}

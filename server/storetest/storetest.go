package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store)
	}{
		{"UpdateRollsBackOnError", testRollback},
		{"OriginSeq", testOriginSeq},
		{"RefusalsKeepCodeReasonAndBase", testRefusals},
		{"RowsAndVersionsKeepKinds", testVersions},
		{"ReadLogFiltersAndPages", testReadLog},
		{"ReadLogSaysMoreOnlyWhenMoreFollows", testReadLogMore},
		{"Children", testChildren},
		{"EnrollAndRevoke", testEnroll},
		{"GCWaitsForEveryDeviceInScope", testGC},
		{"UnitsAndTeams", testUnits},
		{"ConcurrentWritesToOneRow", testConcurrentRow},
		{"HorizonOfActiveDevices", testHorizon},
		{"CollectTruncatesBelowFloor", testCollectTruncates},
		{"CollectMovedRowEverywhere", testCollectMovedRow}, // gc.go
		{"ConflictArchiveReadsAndDeletes", testConflictArchive},
		{"ReenrollSameReplica", testReenroll},            // devices.go
		{"RestoreDevice", testRestore},                   // devices.go
		{"ListDevicesAndCodes", testListDevicesAndCodes}, // devices.go
		{"ConcurrentReenroll", testConcurrentReenroll},   // devices.go
		{"ScopeHistory", testScopeHistory},
		{"SnapshotRowsPageByKey", testSnapshotRows},                                  // snapshot.go
		{"SnapshotLossesOfRows", testSnapshotLosses},                                 // snapshot.go
		{"EnrollAgainWithTheSameCode", testEnrollAgain},                              // fork.go
		{"ChangeDigests", testDigests},                                               // fork.go
		{"ForkDevice", testForkDevice},                                               // fork.go
		{"ForkParents", testForkParents},                                             // fork.go
		{"VersionsBesideTheRowTable", testVersionsBesideTheRowTable},                 // versions.go
		{"VersionsKeepWhatTheRowTableCannot", testVersionsKeepWhatTheRowTableCannot}, // versions.go
		{"ForgetBases", testForgetBases},                                             // versions.go
		{"CollectForgetsBases", testCollectForgetsBases},                             // versions.go
		{"Blobs", testBlobs},                                                         // blobs.go
		{"ConcurrentUpload", testConcurrentUpload},                                   // blobs.go
		{"PhotoReferences", testPhotoReferences},                                     // blobs.go
		{"LogEpochOnRestore", testLogEpoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, store{s})
		})
	}
}

var ctx = context.Background()

// store is a store under test as the server uses it: its port, and the
// server's policy over the port's primitives, which the store's answers
// decide (collection, enrollment).
type store struct{ server.Store }

// Enroll is the server's enrollment.
func (s store) Enroll(ctx context.Context, codeHash []byte, now time.Time, d server.Device) (server.Enrollment, error) {
	return server.Enroll(ctx, s.Store, codeHash, now, d)
}

// ForkDevice is the server's fork of a copied replica.
func (s store) ForkDevice(ctx context.Context, from, d server.Device, startSeq uint64) (server.Enrollment, error) {
	return server.ForkDevice(ctx, s.Store, from, d, startSeq)
}

// RestoreDevice is the server's restore of a revoked device.
func (s store) RestoreDevice(ctx context.Context, id string) (server.Device, error) {
	return server.RestoreDevice(ctx, s.Store, id)
}

// GC is the server's collection with no options.
func (s store) GC(ctx context.Context) (server.GCStats, error) {
	return server.Collect(ctx, s.Store, server.GCOptions{})
}

// Collect is the server's collection.
func (s store) Collect(ctx context.Context, opts server.GCOptions) (server.GCStats, error) {
	return server.Collect(ctx, s.Store, opts)
}

func change(table string, row uuid.UUID, field string, v syncproto.Value, scope string, origin uuid.UUID, seq uint64) syncproto.Change {
	return syncproto.Change{Table: table, Row: row, Field: field, Value: v, Scope: scope,
		HLC: syncproto.MakeHLC(time.Now().UnixMilli(), uint16(seq)), Dot: syncproto.Dot{Replica: origin, Seq: seq}}
}

func testRollback(t *testing.T, s store) {
	r := uuid.New()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx server.Tx) error {
		require.NoError(t, tx.SetOriginSeq(r, 7))
		e := server.LogEntry{Change: change("households", uuid.New(), "notes", syncproto.String("x"), "32002-01", r, 7)}
		require.NoError(t, tx.Append(&e))
		return boom
	})
	require.ErrorIs(t, err, boom)
	seq, err := s.PushedSeq(ctx, r)
	require.NoError(t, err)
	require.Zero(t, seq)
	head, err := s.Head(ctx)
	require.NoError(t, err)
	require.Zero(t, head)
}

func testOriginSeq(t *testing.T, s store) {
	r := uuid.New()
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		seq, err := tx.OriginSeq(r)
		require.NoError(t, err)
		require.Zero(t, seq)
		return tx.SetOriginSeq(r, 42)
	}))
	seq, err := s.PushedSeq(ctx, r)
	require.NoError(t, err)
	require.Equal(t, uint64(42), seq)
}

// testRefusals: a refused change is answered again with its code and
// reason, and the server judges a write over it by its base (server/apply.go,
// seenThroughRefusal), within one transaction too.
func testRefusals(t *testing.T, s store) {
	r, other := uuid.New(), uuid.New()
	row := uuid.New()
	withBase := change("households", row, "hamlet_code", syncproto.String("32002-02"), "32002-01", r, 13)
	withBase.Base = syncproto.Dot{Replica: other, Seq: 4}
	noBase := change("households", row, "notes", syncproto.String("x"), "32002-01", r, 14)
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for _, c := range []syncproto.Change{withBase, noBase} {
			require.NoError(t, tx.AddRefused(server.Refused{Change: c, DeviceID: "d1", Code: syncproto.CodeOutOfScope, Reason: "why", At: time.Now()}))
		}
		got, err := tx.Refusals(r, 13, 13)
		require.NoError(t, err)
		require.Equal(t, withBase.Base, got[13].Change.Base, "read back in the transaction that stored it")
		return nil
	}))
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		got, err := tx.Refusals(r, 1, 20)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, syncproto.CodeOutOfScope, got[13].Code)
		require.Equal(t, "why", got[13].Reason)
		require.Equal(t, syncproto.Dot{Replica: r, Seq: 13}, got[13].Change.Dot)
		require.Equal(t, withBase.Base, got[13].Change.Base)
		require.True(t, got[14].Change.Base.IsZero(), "no base: the zero dot")
		none, err := tx.Refusals(other, 1, 20)
		require.NoError(t, err)
		require.Empty(t, none)
		return nil
	}))
}

func testVersions(t *testing.T, s store) {
	row := uuid.New()
	origin, base := uuid.New(), uuid.New()
	vals := map[string]syncproto.Value{
		"head_name": syncproto.String("Nguyễn Văn A"), "members_count": syncproto.Int(4),
		"has_smartphone": syncproto.Bool(false), "notes": syncproto.Null(), "_deleted": syncproto.Bool(true),
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		_, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.False(t, ok)
		vs := map[string]syncproto.Version{}
		seq := uint64(0)
		for f, v := range vals {
			seq++
			vs[f] = syncproto.Version{Value: v, HLC: syncproto.HLC(1000 + seq), Dot: syncproto.Dot{Replica: origin, Seq: seq}, Base: syncproto.Dot{Replica: base, Seq: 3}}
		}
		require.NoError(t, tx.PutRow("households", row, server.RowState{Scope: "32002-01", Deleted: true, TombSeq: 9, Versions: vs}))
		return tx.Materialize("households", row, vals)
	}))
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.True(t, ok)
		got := st.Versions
		st.Versions = nil
		require.Equal(t, server.RowState{Scope: "32002-01", Deleted: true, TombSeq: 9}, st)
		require.Len(t, got, len(vals))
		for f, v := range vals {
			require.Equal(t, v, got[f].Value, f)
			require.Equal(t, v.Kind(), got[f].Value.Kind(), f)
			require.Equal(t, origin, got[f].Dot.Replica)
			require.Equal(t, syncproto.Dot{Replica: base, Seq: 3}, got[f].Base)
		}
		return nil
	}))
}

func testReadLog(t *testing.T, s store) {
	me, other := uuid.New(), uuid.New()
	var seqs []uint64
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for i := 0; i < 30; i++ {
			origin, scope := other, "32002-01"
			switch i % 3 {
			case 1:
				scope = "32002-02"
			case 2:
				scope = "32167-01"
			}
			if i%5 == 0 {
				origin = me
			}
			e := server.LogEntry{Change: change("households", uuid.New(), "notes", syncproto.Int(int64(i)), scope, origin, uint64(i+1))}
			if i%10 == 0 {
				// A version a move logged again: it goes to its origin too.
				e.NewScope = scope
			}
			require.NoError(t, tx.Append(&e))
			seqs = append(seqs, e.Seq)
		}
		ev := server.LogEntry{Kind: server.EntryEviction, NewScope: "32167-01", Change: syncproto.Change{Table: "households", Row: uuid.New(), Scope: "32002-01", Dot: syncproto.Dot{Replica: me}}}
		return tx.Append(&ev)
	}))
	for i := 1; i < len(seqs); i++ {
		require.Greater(t, seqs[i], seqs[i-1])
	}
	head, err := s.Head(ctx)
	require.NoError(t, err)
	scopes := []string{"32002-01", "32002-02"}
	// Page through with a small limit: the union is exactly the filter.
	var got []server.LogEntry
	cursor := uint64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 50)
		p, err := s.ReadLog(ctx, server.LogQuery{After: cursor, Scopes: scopes, Exclude: me, Limit: 4})
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Entries), 4)
		require.Greater(t, p.To, cursor)
		for _, e := range p.Entries {
			require.Greater(t, e.Seq, cursor)
			require.LessOrEqual(t, e.Seq, p.To)
		}
		got = append(got, p.Entries...)
		cursor = p.To
		if !p.More {
			break
		}
	}
	require.Equal(t, head, cursor)
	var want int
	for i := 0; i < 30; i++ {
		if i%3 != 2 && (i%5 != 0 || i%10 == 0) {
			want++
		}
	}
	require.Len(t, got, want+1)
	last := got[len(got)-1]
	require.Equal(t, server.EntryEviction, last.Kind)
	require.Equal(t, "32167-01", last.NewScope)
	moved := 0
	for _, e := range got[:len(got)-1] {
		if e.Change.Dot.Replica == me {
			require.Equal(t, e.Change.Scope, e.NewScope, "the requester's own entry only where a move logged it")
			moved++
		} else {
			require.Empty(t, e.NewScope)
		}
		require.Contains(t, scopes, e.Change.Scope)
		require.Equal(t, syncproto.KindInt, e.Change.Value.Kind())
	}
	require.Equal(t, 2, moved, "entries 0 and 10")
	// Nothing in scope: the cursor still moves to the head.
	p, err := s.ReadLog(ctx, server.LogQuery{After: 0, Scopes: []string{"99999-01"}, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, p.Entries)
	require.Equal(t, head, p.To)
	require.False(t, p.More)
	_, err = s.ReadLog(ctx, server.LogQuery{After: head + 10, Scopes: scopes})
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeBadCursor})
}

// testReadLogMore: a page says More only when an entry in the query's
// scopes follows it; one that holds the last of them ends at the head,
// however many entries of other scopes lie above. A page that stopped at
// a scope's Limit-th entry instead cost the agent a pull for nothing, and
// made the stores page differently (internal/simtest TestPostgresSameTrace).
func testReadLogMore(t *testing.T, s store) {
	origin := uuid.New()
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		for i, scope := range []string{"32002-01", "32002-02", "32002-01", "32002-01", "32002-02", "32002-03", "32002-03"} {
			e := server.LogEntry{Change: change("households", uuid.New(), "notes", syncproto.Int(int64(i)), scope, origin, uint64(i+1))}
			if err := tx.Append(&e); err != nil {
				return err
			}
		}
		return nil
	}))
	head, err := s.Head(ctx)
	require.NoError(t, err)
	for _, c := range []struct {
		limit   int
		entries int
		more    bool
	}{
		{limit: 3, entries: 3, more: true},
		{limit: 4, entries: 4, more: true},
		{limit: 5, entries: 5, more: false},
		{limit: 9, entries: 5, more: false},
	} {
		// 32002-01 holds three entries: a page of three has read all of
		// that scope, and another of 32002-02 still follows.
		p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01", "32002-02"}, Limit: c.limit})
		require.NoError(t, err)
		require.Len(t, p.Entries, c.entries, "limit %d", c.limit)
		require.Equal(t, c.more, p.More, "limit %d", c.limit)
		if !c.more {
			require.Equal(t, head, p.To, "limit %d: the last page ends at the head", c.limit)
		}
	}
	// One scope of exactly Limit entries, entries of another above them.
	p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01"}, Limit: 3})
	require.NoError(t, err)
	require.Len(t, p.Entries, 3)
	require.False(t, p.More, "nothing of 32002-01 follows")
	require.Equal(t, head, p.To)
}

func testChildren(t *testing.T, s store) {
	hh, v1, v2 := uuid.New(), uuid.New(), uuid.New()
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		require.NoError(t, tx.PutRow("households", hh, server.RowState{Scope: "32002-01"}))
		require.NoError(t, tx.PutRow("visits", v1, server.RowState{Scope: "32002-01", Parent: hh}))
		require.NoError(t, tx.PutRow("field_reports", v2, server.RowState{Scope: "32002-01", Parent: hh}))
		kids, err := tx.Children(hh)
		require.NoError(t, err)
		// By table, then row: the server stamps its writes to a moved
		// household's children in this order, so their dots are the same
		// on every store (internal/simtest TestPostgresSameTrace).
		require.Equal(t, []server.RowRef{{Table: "field_reports", Row: v2}, {Table: "visits", Row: v1}}, kids)
		return nil
	}))
}

// Fixture: units, a team covering two hamlets, a member.
func fixture(t *testing.T, s server.Store) (server.Team, server.Member) {
	require.NoError(t, s.ImportUnits(ctx, schema.EmbeddedUnits2025()))
	require.NoError(t, s.ImportUnits(ctx, []schema.AdminUnit{
		{Code: "32002-01", Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32002"},
		{Code: "32002-02", Name: "Khóm 2", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32002"},
	}))
	team := server.Team{ID: uuid.NewString(), CommuneCode: "32002", Name: "Tổ 1", Hamlets: []string{"32002-01", "32002-02"}}
	require.NoError(t, s.CreateTeam(ctx, team))
	m := server.Member{ID: uuid.NewString(), TeamID: team.ID, Name: "Lê Thị B", Role: "member"}
	require.NoError(t, s.AddMember(ctx, m))
	return team, m
}

func enroll(t *testing.T, s store, m server.Member, now time.Time) server.Device {
	hash := []byte(uuid.NewString())
	require.NoError(t, s.PutCode(ctx, server.EnrollCode{Hash: hash, MemberID: m.ID, Expires: now.Add(time.Hour), Created: now}))
	d := server.Device{ID: uuid.NewString(), Replica: uuid.New(), Label: "máy", Client: "test", TokenHash: []byte(uuid.NewString()), Created: now}
	en, err := s.Enroll(ctx, hash, now, d)
	require.NoError(t, err)
	return en.Device
}

func testEnroll(t *testing.T, s store) {
	team, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	hash := []byte("code-hash")
	require.NoError(t, s.PutCode(ctx, server.EnrollCode{Hash: hash, MemberID: m.ID, Expires: now.Add(time.Hour), Created: now}))
	d := server.Device{ID: uuid.NewString(), Replica: uuid.New(), Label: "máy", Client: "test", TokenHash: []byte("tok"), Created: now}
	_, err := s.Enroll(ctx, []byte("nope"), now, d)
	require.ErrorIs(t, err, server.ErrCodeInvalid)
	_, err = s.Enroll(ctx, hash, now.Add(2*time.Hour), d)
	require.ErrorIs(t, err, server.ErrCodeExpired)
	en, err := s.Enroll(ctx, hash, now, d)
	require.NoError(t, err)
	require.Equal(t, team.ID, en.Team.ID)
	require.Equal(t, team.Hamlets, en.Team.Hamlets)
	require.False(t, en.Again)
	other := d
	other.ID, other.Replica, other.TokenHash = uuid.NewString(), uuid.New(), []byte("tok2")
	_, err = s.Enroll(ctx, hash, now, other)
	require.ErrorIs(t, err, server.ErrCodeUsed, "another replica with a used code")

	got, err := s.DeviceByToken(ctx, []byte("tok"))
	require.NoError(t, err)
	require.Equal(t, d.ID, got.ID)
	require.Equal(t, d.Replica, got.Replica)
	require.Equal(t, m.ID, got.MemberID)
	require.Nil(t, got.Revoked)
	scope, err := s.Scope(ctx, m.ID)
	require.NoError(t, err)
	require.Equal(t, team.Hamlets, scope)

	require.NoError(t, s.RevokeDevice(ctx, d.ID, now))
	got, err = s.DeviceByToken(ctx, []byte("tok"))
	require.NoError(t, err)
	require.NotNil(t, got.Revoked)
	require.ErrorIs(t, s.RevokeDevice(ctx, "no-such-device", now), server.ErrNotFound)
	_, err = s.DeviceByToken(ctx, []byte("other"))
	require.ErrorIs(t, err, server.ErrNotFound)
	devs, err := s.Devices(ctx)
	require.NoError(t, err)
	require.Len(t, devs, 1)
}

func testGC(t *testing.T, s store) {
	_, m := fixture(t, s)
	now := time.Now()
	d1, d2 := enroll(t, s, m, now), enroll(t, s, m, now)
	// Enrolled and never seen: it holds nothing and clones when it comes,
	// so it holds nothing back either.
	enroll(t, s, m, now)
	origin := uuid.New()
	dead, alive := uuid.New(), uuid.New()
	var tomb uint64
	vs := map[uuid.UUID]map[string]syncproto.Version{dead: {}, alive: {}}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		seq := uint64(0)
		put := func(row uuid.UUID, f string, v syncproto.Value) uint64 {
			seq++
			c := change("households", row, f, v, "32002-01", origin, seq)
			vs[row][f] = syncproto.VersionOf(&c)
			e := server.LogEntry{Change: c}
			require.NoError(t, tx.Append(&e))
			return e.Seq
		}
		put(dead, "head_name", syncproto.String("X"))
		put(alive, "head_name", syncproto.String("Y"))
		tomb = put(dead, "_deleted", syncproto.Bool(true))
		// A superseded entry of the live row, compacted once everyone has it.
		old := change("households", alive, "notes", syncproto.String("cũ"), "32002-01", origin, 100)
		e := server.LogEntry{Change: old}
		require.NoError(t, tx.Append(&e))
		put(alive, "notes", syncproto.String("mới"))
		require.NoError(t, tx.PutRow("households", dead, server.RowState{Scope: "32002-01", Deleted: true, TombSeq: tomb, Versions: vs[dead]}))
		require.NoError(t, tx.PutRow("households", alive, server.RowState{Scope: "32002-01", Versions: vs[alive]}))
		require.NoError(t, tx.Materialize("households", dead, map[string]syncproto.Value{"head_name": syncproto.String("X"), "_deleted": syncproto.Bool(true)}))
		return nil
	}))
	c, err := s.Head(ctx)
	require.NoError(t, err)
	// d2 said Hello (its contact is stored) and has pulled nothing.
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: d1.ID, At: now, Cursor: &c}, {DeviceID: d2.ID, At: now}}))
	st, err := s.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Rows, "d2 has not pulled the tombstone yet")

	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: d2.ID, At: now, Cursor: &c}}))
	st, err = s.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	require.Equal(t, 1, st.Superseded)
	require.Equal(t, 3, st.Entries)
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		_, ok, err := tx.Row("households", dead)
		require.NoError(t, err)
		require.False(t, ok)
		st, ok, err := tx.Row("households", alive)
		require.NoError(t, err)
		require.True(t, ok)
		require.Len(t, st.Versions, 2)
		return nil
	}))
	p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01"}, Limit: 100})
	require.NoError(t, err)
	require.Len(t, p.Entries, 2)
	for _, e := range p.Entries {
		require.Equal(t, alive, e.Change.Row)
		require.NotEqual(t, syncproto.String("cũ"), e.Change.Value)
	}
}

func testUnits(t *testing.T, s store) {
	require.NoError(t, s.ImportUnits(ctx, schema.EmbeddedUnits2022()))
	require.NoError(t, s.ImportUnits(ctx, schema.EmbeddedUnits2025()))
	all, err := s.Units(ctx, schema.LevelCommune, "")
	require.NoError(t, err)
	byCode := map[string]schema.AdminUnit{}
	for _, u := range all {
		byCode[u.Code] = u
	}
	// 32164 (xã Tân Đức, 2022) was merged into 32167 Tân Thuận.
	old := byCode["32164"]
	require.Equal(t, schema.Units2025EffectiveOn, old.RetiredOn)
	require.Contains(t, old.SuccessorCodes, "32167")
	require.Empty(t, byCode["32167"].RetiredOn)
	require.Contains(t, byCode["32167"].FormedFrom, schema.Predecessor{Code: "32164"})
	districts, err := s.Units(ctx, schema.LevelDistrict, "")
	require.NoError(t, err)
	require.NotEmpty(t, districts)
	for _, d := range districts {
		require.NotEmpty(t, d.RetiredOn, "no district level since 2025")
	}
	// UnitNames: the names Units gives, of the codes asked only; a code
	// no unit has is left out.
	names, err := s.UnitNames(ctx, []string{"32167", "32164", "no-such-unit", "32167"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"32167": byCode["32167"].Name, "32164": old.Name}, names)
	names, err = s.UnitNames(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, names)
}

// testConcurrentRow: two connections push to the same row at once. Each
// write reads the row, adds one to a counter field and appends a log entry,
// as the push path reads, decides and writes; no increment may be lost, and
// the log must hold every entry once, under distinct seqs. A store that
// serves several processes must lock what a transaction reads (the SQLite
// store has one writer).
func testConcurrentRow(t *testing.T, s store) {
	row := uuid.New()
	const writers, each = 2, 25
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		origin := uuid.New()
		go func() {
			var err error
			for i := 1; i <= each && err == nil; i++ {
				err = s.Update(ctx, func(tx server.Tx) error {
					ref := server.RowRef{Table: "households", Row: row}
					states, err := tx.LoadRows([]server.RowRef{ref})
					if err != nil {
						return err
					}
					st, ok := states[ref]
					if !ok {
						st = server.RowState{Scope: "32002-01", Versions: map[string]syncproto.Version{}}
					}
					n := int64(0)
					if v, ok := st.Versions["members_count"]; ok {
						n = v.Value.AsInt()
					}
					c := change("households", row, "members_count", syncproto.Int(n+1), "32002-01", origin, uint64(i))
					st.Versions["members_count"] = syncproto.VersionOf(&c)
					e := server.LogEntry{Change: c}
					if err := tx.Append(&e); err != nil {
						return err
					}
					if err := tx.SetOriginSeq(origin, uint64(i)); err != nil {
						return err
					}
					return tx.SaveRows([]server.RowSave{{Ref: ref, State: &st, Fields: map[string]syncproto.Value{"members_count": c.Value}}})
				})
			}
			errs <- err
		}()
	}
	for w := 0; w < writers; w++ {
		require.NoError(t, <-errs)
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		st, ok, err := tx.Row("households", row)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, syncproto.Int(writers*each), st.Versions["members_count"].Value, "an increment was lost")
		return nil
	}))
	p, err := s.ReadLog(ctx, server.LogQuery{Scopes: []string{"32002-01"}, Limit: 1000})
	require.NoError(t, err)
	require.Len(t, p.Entries, writers*each)
	seen := map[int64]bool{}
	for i, e := range p.Entries {
		if i > 0 {
			require.Greater(t, e.Seq, p.Entries[i-1].Seq)
		}
		seen[e.Change.Value.AsInt()] = true
	}
	require.Len(t, seen, writers*each, "every value 1..n once")
}

// A store never restored has epoch 0; each restore mark gives one new
// epoch, once, which stays (docs/PROTOCOL.md §7.1, Welcome.LogEpoch).
func testLogEpoch(t *testing.T, s store) {
	e, err := s.LogEpoch(ctx)
	require.NoError(t, err)
	require.Zero(t, e)
	require.NoError(t, s.MarkRestored(ctx))
	e1, err := s.LogEpoch(ctx)
	require.NoError(t, err)
	require.NotZero(t, e1)
	again, err := s.LogEpoch(ctx)
	require.NoError(t, err)
	require.Equal(t, e1, again, "the mark gives one epoch, once")
	require.NoError(t, s.MarkRestored(ctx))
	e2, err := s.LogEpoch(ctx)
	require.NoError(t, err)
	require.NotZero(t, e2)
	require.NotEqual(t, e1, e2, "a second restore, a second epoch")
}

package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// Conformance of server.DeviceStore and of re-enrollment (issue 9 part 2).

// devices is what the device tests use: the store's listings and the
// server's restore over it.
type devices interface {
	server.DeviceStore
	RestoreDevice(ctx context.Context, id string) (server.Device, error)
}

func deviceStore(t *testing.T, s store) devices { return s }

// secondTeam adds a team covering another hamlet, with one member.
func secondTeam(t *testing.T, s server.Store) (server.Team, server.Member) {
	require.NoError(t, s.ImportUnits(ctx, []schema.AdminUnit{
		{Code: "32002-03", Name: "Khóm 3", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32002"},
	}))
	team := server.Team{ID: uuid.NewString(), CommuneCode: "32002", Name: "Tổ 2", Hamlets: []string{"32002-03"}}
	require.NoError(t, s.CreateTeam(ctx, team))
	m := server.Member{ID: uuid.NewString(), TeamID: team.ID, Name: "Trần Văn C", Role: "member"}
	require.NoError(t, s.AddMember(ctx, m))
	return team, m
}

func addMember(t *testing.T, s server.Store, team string) server.Member {
	m := server.Member{ID: uuid.NewString(), TeamID: team, Name: "Nguyễn Thị D", Role: "member"}
	require.NoError(t, s.AddMember(ctx, m))
	return m
}

// code stores a fresh code for m and returns its hash.
func code(t *testing.T, s server.Store, m server.Member, now time.Time) []byte {
	hash := []byte(uuid.NewString())
	require.NoError(t, s.PutCode(ctx, server.EnrollCode{Hash: hash, MemberID: m.ID, Expires: now.Add(time.Hour), Created: now}))
	return hash
}

func device(replica uuid.UUID, tok string, now time.Time) server.Device {
	return server.Device{ID: uuid.NewString(), Replica: replica, Label: "máy", Client: "test", TokenHash: []byte(tok), Created: now}
}

// testReenroll: the same replica enrolls again with a new code only once
// its device is revoked, only for its team, as a new device record that
// replaces the old one and keeps its cursor; a refused code stays unused.
func testReenroll(t *testing.T, s store) {
	ds := deviceStore(t, s)
	team, m := fixture(t, s)
	other := addMember(t, s, team.ID)
	_, stranger := secondTeam(t, s)
	now := time.Now().Truncate(time.Millisecond)
	replica := uuid.New()

	en1, err := s.Enroll(ctx, code(t, s, m, now), now, device(replica, "tok1", now))
	require.NoError(t, err)
	d1 := en1.Device
	require.Empty(t, d1.Replaces)
	cur := uint64(42)
	require.NoError(t, s.Touch(ctx, []server.DeviceActivity{{DeviceID: d1.ID, At: now, Cursor: &cur}}))

	// Active on d1: refused, and the code is not used up.
	handover := code(t, s, other, now)
	_, err = s.Enroll(ctx, handover, now.Add(time.Second), device(replica, "tok2", now.Add(time.Second)))
	require.ErrorIs(t, err, server.ErrReplicaActive)
	var re *server.ReplicaError
	require.ErrorAs(t, err, &re)
	require.Equal(t, d1.ID, re.DeviceID)
	codes, err := ds.Codes(ctx, server.DeviceFilter{MemberID: other.ID})
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, server.CodeUnused, codes[0].Status(now))

	// Revoked: a member of the same team takes the laptop over.
	require.NoError(t, s.RevokeDevice(ctx, d1.ID, now.Add(time.Second)))
	en2, err := s.Enroll(ctx, handover, now.Add(2*time.Second), device(replica, "tok2", now.Add(2*time.Second)))
	require.NoError(t, err)
	d2 := en2.Device
	require.Equal(t, d1.ID, d2.Replaces)
	require.Equal(t, cur, d2.Cursor)
	require.Equal(t, other.ID, d2.MemberID)
	got, err := s.DeviceByToken(ctx, []byte("tok2"))
	require.NoError(t, err)
	require.Equal(t, d1.ID, got.Replaces)
	require.Equal(t, cur, got.Cursor)
	require.Nil(t, got.Revoked)
	old, err := s.DeviceByToken(ctx, []byte("tok1"))
	require.NoError(t, err)
	require.NotNil(t, old.Revoked, "the replaced device's token stays revoked")
	byID, err := ds.DeviceByID(ctx, d2.ID)
	require.NoError(t, err)
	require.Equal(t, got, byID)
	_, err = ds.DeviceByID(ctx, "no-such-device")
	require.ErrorIs(t, err, server.ErrNotFound)
	for id, want := range map[string]bool{d1.ID: true, d2.ID: false} {
		revoked, err := ds.DeviceRevoked(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, revoked)
	}
	_, err = ds.DeviceRevoked(ctx, "no-such-device")
	require.ErrorIs(t, err, server.ErrNotFound)

	// Another team: refused, code unused.
	require.NoError(t, s.RevokeDevice(ctx, d2.ID, now.Add(3*time.Second)))
	_, err = s.Enroll(ctx, code(t, s, stranger, now), now.Add(4*time.Second), device(replica, "tok3", now.Add(4*time.Second)))
	require.ErrorIs(t, err, server.ErrReplicaTeam)
	require.ErrorAs(t, err, &re)
	require.Equal(t, d2.ID, re.DeviceID, "names the replica's last device")
	codes, err = ds.Codes(ctx, server.DeviceFilter{MemberID: stranger.ID})
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Nil(t, codes[0].Used)

	// The original member enrolls it again: it replaces the LAST device.
	en3, err := s.Enroll(ctx, code(t, s, m, now), now.Add(5*time.Second), device(replica, "tok4", now.Add(5*time.Second)))
	require.NoError(t, err)
	require.Equal(t, d2.ID, en3.Device.Replaces)
}

// testRestore: restoring clears a revocation; unknown, not revoked, and a
// replica active on another device are refused with their own errors.
func testRestore(t *testing.T, s store) {
	ds := deviceStore(t, s)
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	replica := uuid.New()
	en, err := s.Enroll(ctx, code(t, s, m, now), now, device(replica, "tok1", now))
	require.NoError(t, err)
	d1 := en.Device

	_, err = ds.RestoreDevice(ctx, "no-such-device")
	require.ErrorIs(t, err, server.ErrNotFound)
	_, err = ds.RestoreDevice(ctx, d1.ID)
	require.ErrorIs(t, err, server.ErrNotRevoked)

	require.NoError(t, s.RevokeDevice(ctx, d1.ID, now))
	got, err := ds.RestoreDevice(ctx, d1.ID)
	require.NoError(t, err)
	require.Equal(t, d1.ID, got.ID)
	require.Nil(t, got.Revoked)
	tok, err := s.DeviceByToken(ctx, []byte("tok1"))
	require.NoError(t, err)
	require.Nil(t, tok.Revoked, "the restored token works again")

	// Revoked, then the replica enrolled again: restoring the old device
	// would make the replica active twice.
	require.NoError(t, s.RevokeDevice(ctx, d1.ID, now.Add(time.Second)))
	en2, err := s.Enroll(ctx, code(t, s, m, now), now.Add(2*time.Second), device(replica, "tok2", now.Add(2*time.Second)))
	require.NoError(t, err)
	_, err = ds.RestoreDevice(ctx, d1.ID)
	require.ErrorIs(t, err, server.ErrReplicaActive)
	var re *server.ReplicaError
	require.ErrorAs(t, err, &re)
	require.Equal(t, en2.Device.ID, re.DeviceID)
	tok, err = s.DeviceByToken(ctx, []byte("tok1"))
	require.NoError(t, err)
	require.NotNil(t, tok.Revoked, "a refused restore changes nothing")
}

// testListDevicesAndCodes: devices and codes by member and by team, with
// the code's status and the device that used it.
func testListDevicesAndCodes(t *testing.T, s store) {
	ds := deviceStore(t, s)
	teamA, a1 := fixture(t, s)
	a2 := addMember(t, s, teamA.ID)
	teamB, b1 := secondTeam(t, s)
	now := time.Now().Truncate(time.Millisecond)

	hA1 := code(t, s, a1, now)
	dA1, err := s.Enroll(ctx, hA1, now, device(uuid.New(), "a1", now))
	require.NoError(t, err)
	require.NoError(t, s.PutCode(ctx, server.EnrollCode{Hash: []byte("a1-unused"), MemberID: a1.ID, Created: now.Add(time.Millisecond), Expires: now.Add(time.Hour)}))
	require.NoError(t, s.PutCode(ctx, server.EnrollCode{Hash: []byte("a2-expired"), MemberID: a2.ID, Created: now.Add(2 * time.Millisecond), Expires: now.Add(-time.Minute)}))
	dB1, err := s.Enroll(ctx, code(t, s, b1, now.Add(3*time.Millisecond)), now, device(uuid.New(), "b1", now.Add(3*time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, s.RevokeDevice(ctx, dB1.Device.ID, now))

	codes, err := ds.Codes(ctx, server.DeviceFilter{MemberID: a1.ID})
	require.NoError(t, err)
	require.Len(t, codes, 2)
	require.Equal(t, server.CodeUsed, codes[0].Status(now))
	require.Equal(t, dA1.Device.ID, codes[0].DeviceID)
	require.Equal(t, teamA.ID, codes[0].TeamID)
	require.True(t, now.Equal(codes[0].Created))
	require.Equal(t, server.CodeUnused, codes[1].Status(now))
	require.Empty(t, codes[1].DeviceID)

	codes, err = ds.Codes(ctx, server.DeviceFilter{TeamID: teamA.ID})
	require.NoError(t, err)
	require.Len(t, codes, 3)
	require.Equal(t, a2.ID, codes[2].MemberID)
	require.Equal(t, server.CodeExpired, codes[2].Status(now))
	codes, err = ds.Codes(ctx, server.DeviceFilter{TeamID: teamB.ID})
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, dB1.Device.ID, codes[0].DeviceID)
	codes, err = ds.Codes(ctx, server.DeviceFilter{})
	require.NoError(t, err)
	require.Len(t, codes, 4)
	codes, err = ds.Codes(ctx, server.DeviceFilter{MemberID: a1.ID, TeamID: teamB.ID})
	require.NoError(t, err)
	require.Empty(t, codes)

	devs, err := ds.DevicesBy(ctx, server.DeviceFilter{TeamID: teamA.ID})
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, dA1.Device.ID, devs[0].ID)
	require.Nil(t, devs[0].Revoked)
	devs, err = ds.DevicesBy(ctx, server.DeviceFilter{MemberID: b1.ID})
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, teamB.ID, devs[0].TeamID)
	require.NotNil(t, devs[0].Revoked)
	devs, err = ds.DevicesBy(ctx, server.DeviceFilter{MemberID: a2.ID})
	require.NoError(t, err)
	require.Empty(t, devs)
	devs, err = ds.DevicesBy(ctx, server.DeviceFilter{})
	require.NoError(t, err)
	require.Len(t, devs, 2)
}

// testConcurrentReenroll: several enrollments of one new replica at once,
// each with its own code: exactly one wins, the others are told the replica
// is active, and their codes stay unused.
func testConcurrentReenroll(t *testing.T, s store) {
	ds := deviceStore(t, s)
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	replica := uuid.New()
	const n = 6
	hashes := make([][]byte, n)
	for i := range hashes {
		hashes[i] = code(t, s, m, now)
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Enroll(ctx, hashes[i], now, device(replica, uuid.NewString(), now))
			errs <- err
		}()
	}
	won := 0
	for range n {
		err := <-errs
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, server.ErrReplicaActive)
	}
	require.Equal(t, 1, won)
	codes, err := ds.Codes(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	used := 0
	for _, c := range codes {
		if c.Used != nil {
			used++
		}
	}
	require.Equal(t, 1, used)
}

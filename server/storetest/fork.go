package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 14: an enroll cut off, a copied data folder.

// testEnrollAgain: the replica a used code enrolled gets the same device
// with a new token while the code is valid and the device active; nothing
// else does, and no second device appears.
func testEnrollAgain(t *testing.T, s store) {
	ds := deviceStore(t, s)
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	replica := uuid.New()
	hash := code(t, s, m, now) // valid for an hour
	en, err := s.Enroll(ctx, hash, now, device(replica, "tok1", now))
	require.NoError(t, err)
	require.False(t, en.Again)

	again, err := s.Enroll(ctx, hash, now.Add(time.Minute), device(replica, "tok2", now.Add(time.Minute)))
	require.NoError(t, err)
	require.True(t, again.Again)
	require.Equal(t, en.Device.ID, again.Device.ID, "the same device")
	require.Equal(t, m.ID, again.Member.ID)
	require.Equal(t, en.Team.Hamlets, again.Team.Hamlets)
	got, err := s.DeviceByToken(ctx, []byte("tok2"))
	require.NoError(t, err)
	require.Equal(t, en.Device.ID, got.ID)
	_, err = s.DeviceByToken(ctx, []byte("tok1"))
	require.ErrorIs(t, err, server.ErrNotFound, "the replaced token stops working")

	for name, tc := range map[string]struct {
		replica uuid.UUID
		at      time.Time
	}{
		"another replica":  {uuid.New(), now.Add(time.Minute)},
		"the code expired": {replica, now.Add(2 * time.Hour)},
	} {
		_, err := s.Enroll(ctx, hash, tc.at, device(tc.replica, "tok-"+name, tc.at))
		require.ErrorIs(t, err, server.ErrCodeUsed, name)
	}
	require.NoError(t, s.RevokeDevice(ctx, en.Device.ID, now.Add(time.Minute)))
	_, err = s.Enroll(ctx, hash, now.Add(2*time.Minute), device(replica, "tok3", now.Add(2*time.Minute)))
	require.ErrorIs(t, err, server.ErrCodeUsed, "the device was revoked")

	devs, err := ds.DevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	require.Len(t, devs, 1, "no second device")
	codes, err := ds.Codes(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, en.Device.ID, codes[0].DeviceID)
}

// testDigests: change digests are read back within their transaction and
// after it, by origin and range; collection keeps each replica's newest
// server.DigestWindow. A digest keeps the stamp the server gave its change
// (0: kept as pushed), and a sequence taken again replaces both.
func testDigests(t *testing.T, s store) {
	r, other := uuid.New(), uuid.New()
	n := uint64(server.DigestWindow + 5)
	ds := make([]server.Digest, 0, n)
	for seq := uint64(1); seq <= n; seq++ {
		ds = append(ds, server.Digest{Seq: seq, Digest: seq*0x9e3779b97f4a7c15 | 1<<63})
	}
	ds[2].HLC = syncproto.MakeHLC(1_800_000_000_000, 3) // restamped
	ds[3].HLC = syncproto.MakeHLC(1_800_000_000_000, 4)
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		var dt server.DigestTx = tx
		got, err := dt.Digests(r, 1, 10)
		require.NoError(t, err)
		require.Empty(t, got, "an unknown replica")
		require.NoError(t, dt.AddDigests(r, ds))
		require.NoError(t, dt.AddDigests(other, []server.Digest{{Seq: 1, Digest: 7}}))
		got, err = dt.Digests(r, 2, 4)
		require.NoError(t, err)
		require.Equal(t, map[uint64]server.Digest{2: ds[1], 3: ds[2], 4: ds[3]}, got, "this transaction's own")
		// Taken again (a server restored from a backup): digest and stamp
		// are the newer change's.
		require.NoError(t, dt.AddDigests(r, []server.Digest{{Seq: 4, Digest: 11}}))
		ds[3] = server.Digest{Seq: 4, Digest: 11}
		require.NoError(t, tx.SetOriginSeq(r, n))
		return tx.SetOriginSeq(other, 1)
	}))
	read := func(origin uuid.UUID, from, to uint64) map[uint64]server.Digest {
		var got map[uint64]server.Digest
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			var err error
			got, err = tx.Digests(origin, from, to)
			return err
		}))
		return got
	}
	require.Equal(t, map[uint64]server.Digest{1: {Seq: 1, Digest: 7}}, read(other, 1, 1))
	require.Len(t, read(r, 1, n), int(n))
	require.Equal(t, uint64(1<<63|1*0x9e3779b97f4a7c15), read(r, 1, 1)[1].Digest, "64 bits kept")
	require.Equal(t, map[uint64]server.Digest{2: ds[1], 3: ds[2], 4: ds[3]}, read(r, 2, 4), "stamps kept, a replaced one's dropped")

	st, err := s.Collect(ctx, server.GCOptions{})
	require.NoError(t, err)
	require.Equal(t, 5, st.Digests)
	require.Empty(t, read(r, 1, 5))
	require.Len(t, read(r, 1, n), server.DigestWindow)
	require.Len(t, read(other, 1, 1), 1, "a replica's newest are kept")
	floor := func(origin uuid.UUID) uint64 {
		var f uint64
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			var err error
			f, err = tx.DigestFloor(origin)
			return err
		}))
		return f
	}
	require.Equal(t, uint64(5), floor(r), "the highest sequence whose digest collection dropped")
	require.Zero(t, floor(other))
	require.Zero(t, floor(uuid.New()), "an unknown replica")
	_, err = s.Collect(ctx, server.GCOptions{})
	require.NoError(t, err)
	require.Equal(t, uint64(5), floor(r), "collecting again keeps it")
}

// testForkDevice: a fork makes a device of the same member for a new
// replica whose numbering starts after start_seq; asked again it gives the
// same device a new token; a replica in use and a revoked device are
// refused.
func testForkDevice(t *testing.T, s store) {
	fs := s
	ds := deviceStore(t, s)
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	from := enroll(t, s, m, now)
	copyID := uuid.New()

	en, err := fs.ForkDevice(ctx, from, device(copyID, "fork1", now), 41)
	require.NoError(t, err)
	require.False(t, en.Again)
	require.Equal(t, m.ID, en.Device.MemberID)
	require.Equal(t, copyID, en.Device.Replica)
	require.NotEqual(t, from.ID, en.Device.ID)
	pushed, err := s.PushedSeq(ctx, copyID)
	require.NoError(t, err)
	require.Equal(t, uint64(41), pushed, "the copy's numbering goes on after its own counter")
	got, err := s.DeviceByToken(ctx, []byte("fork1"))
	require.NoError(t, err)
	require.Equal(t, en.Device.ID, got.ID)
	require.Nil(t, got.Revoked)
	orig, err := s.DeviceByToken(ctx, from.TokenHash)
	require.NoError(t, err)
	require.Nil(t, orig.Revoked, "the original goes on with its own device")

	again, err := fs.ForkDevice(ctx, from, device(copyID, "fork2", now.Add(time.Second)), 41)
	require.NoError(t, err)
	require.True(t, again.Again)
	require.Equal(t, en.Device.ID, again.Device.ID)
	_, err = s.DeviceByToken(ctx, []byte("fork1"))
	require.ErrorIs(t, err, server.ErrNotFound, "the lost answer's token stops working")
	devs, err := ds.DevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	require.Len(t, devs, 2)

	// Another device's replica, or the forked one asked by another device.
	other := enroll(t, s, m, now)
	_, err = fs.ForkDevice(ctx, from, device(other.Replica, "fork3", now), 0)
	require.ErrorIs(t, err, server.ErrReplicaActive)
	_, err = fs.ForkDevice(ctx, other, device(copyID, "fork4", now), 0)
	require.ErrorIs(t, err, server.ErrReplicaActive)
	// A replica that pushed without a device of its own is not handed out.
	pushedOnly := uuid.New()
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error { return tx.SetOriginSeq(pushedOnly, 3) }))
	_, err = fs.ForkDevice(ctx, from, device(pushedOnly, "fork5", now), 0)
	require.ErrorIs(t, err, server.ErrReplicaActive)

	require.NoError(t, s.RevokeDevice(ctx, from.ID, now))
	_, err = fs.ForkDevice(ctx, from, device(uuid.New(), "fork6", now), 0)
	require.ErrorIs(t, err, server.ErrRevoked)
}

// testForkParents: a fork's replica lists the replica it was copied from,
// and that one's own parent, transitively; the original lists none.
func testForkParents(t *testing.T, s store) {
	_, m := fixture(t, s)
	now := time.Now().Truncate(time.Millisecond)
	orig := enroll(t, s, m, now)
	first, err := s.ForkDevice(ctx, orig, device(uuid.New(), "fork-a", now), 3)
	require.NoError(t, err)
	second, err := s.ForkDevice(ctx, first.Device, device(uuid.New(), "fork-b", now), 5)
	require.NoError(t, err)
	unrelated := enroll(t, s, m, now)
	parents := func(r uuid.UUID) []uuid.UUID {
		var out []uuid.UUID
		require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
			ps, err := tx.ForkParents(r)
			out = append(out, ps...)
			return err
		}))
		return out
	}
	require.Empty(t, parents(orig.Replica))
	require.Empty(t, parents(unrelated.Replica))
	require.ElementsMatch(t, []uuid.UUID{orig.Replica}, parents(first.Device.Replica))
	require.ElementsMatch(t, []uuid.UUID{orig.Replica, first.Device.Replica}, parents(second.Device.Replica))
}

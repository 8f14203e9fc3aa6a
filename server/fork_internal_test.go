package server

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// digestsOnly is the digest part of a store's write transaction, holding
// what an older server stored.
type digestsOnly struct {
	Tx
	held map[uint64]Digest
}

func (d digestsOnly) Digests(_ syncproto.ReplicaID, from, to uint64) (map[uint64]Digest, error) {
	out := map[uint64]Digest{}
	for s, v := range d.held {
		if s >= from && s <= to {
			out[s] = v
		}
	}
	return out, nil
}

func (d digestsOnly) DigestFloor(syncproto.ReplicaID) (uint64, error) { return 0, nil }

// TestDigestsStoredBeforeStop50 (helper 215): a server upgraded over
// digests of the older form (over the HLC as pushed; a stamp beside it
// only where it restamped) answers a change pushed again under the same
// stamp duplicate (with the stamp it gave it, if it restamped it), and
// one pushed under another stamp, another copy's, replica_forked as
// before; neither is taken for a copy's later write (laterCopy).
func TestDigestsStoredBeforeStop50(t *testing.T) {
	origin := syncproto.ReplicaID(uuid.New())
	pushed := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	c := syncproto.Change{Table: "households", Row: syncproto.RowID(uuid.New()), Field: "phone",
		Value: syncproto.String("0911111111"), HLC: pushed, Dot: syncproto.Dot{Replica: origin, Seq: 1}}
	restamp := pushed - syncproto.MakeHLC(1000, 0)
	for _, tc := range []struct {
		name      string
		held      Digest
		hlc       syncproto.HLC
		forked    bool
		duplicate syncproto.HLC
	}{
		{"kept as pushed, the same stamp", Digest{Seq: 1, Digest: legacyDigest(&c)}, pushed, false, 0},
		{"kept as pushed, another copy's stamp", Digest{Seq: 1, Digest: legacyDigest(&c)}, pushed + syncproto.MakeHLC(5, 0), true, 0},
		{"restamped, the same stamp", Digest{Seq: 1, Digest: legacyDigest(&c), HLC: restamp}, pushed, false, restamp},
		{"restamped, another copy's stamp", Digest{Seq: 1, Digest: legacyDigest(&c), HLC: restamp}, pushed + syncproto.MakeHLC(5, 0), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again := c
			again.HLC = tc.hlc
			f := newForkCheck(digestsOnly{held: map[uint64]Digest{1: tc.held}}, origin, 1, []syncproto.Change{again})
			forked, err := f.repushed(&again)
			require.NoError(t, err)
			require.Equal(t, tc.forked, forked)
			if !forked {
				require.False(t, f.laterCopy(&again))
				require.Equal(t, tc.duplicate, f.duplicateStamp(&again))
			}
		})
	}
}

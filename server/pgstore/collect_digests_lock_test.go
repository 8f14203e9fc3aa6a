package pgstore_test

// Review 35d of 01fdc96: CollectDigests UPDATEd replicas (digest_floor)
// at the start of the collection transaction, which row-locked every
// replica it raised until the whole Collect committed. A push of such a
// replica takes the log lock (first Append) and then updates
// replicas.max_seq: it waited for collection while holding the log lock,
// and every other push on every process waited behind it. The floor has
// a table of its own now.

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func digestLockEntry(origin uuid.UUID, seq uint64) *server.LogEntry {
	return &server.LogEntry{Change: syncproto.Change{Table: "households", Row: uuid.New(), Field: "notes",
		Value: syncproto.String("x"), Scope: "32002-01", HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
		Dot: syncproto.Dot{Replica: origin, Seq: seq}}}
}

func TestCollectDigestsHoldsNoPush(t *testing.T) {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 8})
	require.NoError(t, err)
	busy, other := uuid.New(), uuid.New()
	const have = server.DigestWindow + 10 // a laptop with more than 20,000 changes in its life
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		require.NoError(t, tx.Append(digestLockEntry(busy, have)))
		return tx.SetOriginSeq(busy, have)
	}))
	inGC, release, gcDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		gcDone <- s.Update(ctx, func(tx server.Tx) error {
			if _, err := tx.(interface{ CollectDigests(int) (int, error) }).CollectDigests(server.DigestWindow); err != nil {
				return err
			}
			select {
			case <-inGC:
			default:
				close(inGC)
			}
			<-release // the rest of collection: tombstones, log compaction...
			return nil
		})
	}()
	<-inGC
	push := func(r uuid.UUID, seq uint64, done chan<- time.Time) {
		err := s.Update(ctx, func(tx server.Tx) error {
			if _, err := tx.OriginSeq(r); err != nil {
				return err
			}
			if err := tx.Append(digestLockEntry(r, seq)); err != nil {
				return err
			}
			return tx.SetOriginSeq(r, seq)
		})
		require.NoError(t, err)
		done <- time.Now()
	}
	busyDone, otherDone := make(chan time.Time, 1), make(chan time.Time, 1)
	go push(busy, have+1, busyDone)
	time.Sleep(300 * time.Millisecond)
	go push(other, 1, otherDone)
	select {
	case <-otherDone:
		t.Log("another replica's push committed during collection")
	case <-time.After(20 * time.Second): // a liveness bound, not a speed: the push takes milliseconds
		close(release)
		require.NoError(t, <-gcDone)
		<-busyDone
		<-otherDone
		t.Fatal("a push of an unrelated replica waited on the collection transaction (behind a push holding the log lock)")
	}
	close(release)
	require.NoError(t, <-gcDone)
	<-busyDone
}

package replicas

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// table is a replicas table of a store: what is committed, and what the
// transaction under test added.
type table struct {
	rows  map[syncproto.ReplicaID]int64
	next  int64
	finds int
}

func (t *table) Find(r syncproto.ReplicaID) (int64, bool, error) {
	t.finds++
	i, ok := t.rows[r]
	return i, ok, nil
}

func (t *table) New(r syncproto.ReplicaID) (int64, error) {
	t.next++
	return t.next, nil
}

// A transaction's new replica is its own until Commit: one rolled back
// leaves the cache as it was, so its index is never handed out as
// another's; a committed one is answered from the cache, without a read.
func TestTxCachesOnlyCommittedReplicas(t *testing.T) {
	c := NewCache()
	known, fresh := uuid.New(), uuid.New()
	tb := &table{rows: map[syncproto.ReplicaID]int64{known: 7}, next: 7}

	tx := NewTx(c)
	i, err := tx.Index(syncproto.ReplicaID{}, true, tb)
	require.NoError(t, err)
	require.Zero(t, i, "the zero id is index 0")
	i, err = tx.Index(fresh, false, tb)
	require.NoError(t, err)
	require.Equal(t, int64(-1), i, "unknown and not created")
	i, err = tx.Index(fresh, true, tb)
	require.NoError(t, err)
	require.Equal(t, int64(8), i)
	require.True(t, tx.Added(fresh))
	r, err := tx.ID(8, nil)
	require.NoError(t, err)
	require.Equal(t, fresh, r)
	i, err = tx.Index(known, false, tb)
	require.NoError(t, err)
	require.Equal(t, int64(7), i, "found in the table, and cached: it is committed")
	// Rolled back: not committed.
	_, ok := c.Index(fresh)
	require.False(t, ok)
	tx2 := NewTx(c)
	_, err = tx2.ID(8, nil)
	require.Error(t, err, "an index the cache never held")

	tx = NewTx(c)
	_, err = tx.Index(fresh, true, tb)
	require.NoError(t, err)
	tx.Commit()
	got, ok := c.Index(fresh)
	require.True(t, ok)
	require.Equal(t, int64(9), got)
	finds := tb.finds
	tx = NewTx(c)
	for _, r := range []syncproto.ReplicaID{known, fresh} {
		_, err := tx.Index(r, false, tb)
		require.NoError(t, err)
	}
	require.Equal(t, finds, tb.finds, "committed replicas are answered from the cache")
}

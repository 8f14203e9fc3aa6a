package agent_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// retryStore runs every write transaction as pgstore.write does after a
// retryable error (40001, 40P01, 23505 on sync_rows_pkey): fn once in a
// transaction that is rolled back, then fn again in a fresh one.
type retryStore struct {
	server.Store
	on atomic.Bool
}

var errRetryable = errors.New("emulated serialization failure")

func (s *retryStore) Update(ctx context.Context, fn func(server.Tx) error) error {
	if s.on.Load() {
		err := s.Store.Update(ctx, func(tx server.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return errRetryable
		})
		if !errors.Is(err, errRetryable) {
			return err
		}
	}
	return s.Store.Update(ctx, fn)
}

// Review 29 (D1): the server rewrote the Base of a correction of a refused
// write in place (seenThroughRefusal). A store that runs the transaction
// again (pgstore after a serialization failure or deadlock) takes the
// digest of the rewritten change on the second run; the laptop, whose Ack
// was lost, pushes the change again as it made it, and the server calls it
// another copy's (replica_forked).
func TestRetriedCorrectionOfRefusedMoveIsNoFork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, st := retryServer(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	id, kept := refusedMove(t, ts, a, ta)
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": kept}))
	first, err := syncRetriedAckLost(t, ts, st, a, ta)
	t.Logf("sync through the proxy: %+v %v", first, err)
	require.Nil(t, first.Fork, "the correction pushed again is a duplicate, not another copy's")

	sum, err := a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second})
	t.Logf("second sync: %+v err %v", sum, err)
	require.NoError(t, err, "the correction pushed again is a duplicate, not another copy's")
	require.Zero(t, sum.Rejected)
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Control: the same retried transaction and lost Ack for a plain edit
// (no refused write under it) is no fork.
func TestRetriedPlainEditIsNoFork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, st := retryServer(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ một"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"head_name": "Hộ hai"}))
	first, err := syncRetriedAckLost(t, ts, st, a, ta)
	require.NoError(t, err)
	require.Nil(t, first.Fork)
}

// retryServer is a real server on a SQLite store that runs write
// transactions twice while its switch is on (retryStore).
func retryServer(t *testing.T) (*servertest.TS, *retryStore) {
	t.Helper()
	lite, err := servertest.OpenStore(context.Background(), t.TempDir(), "NORMAL")
	require.NoError(t, err)
	st := &retryStore{Store: lite}
	return servertest.Start(t, servertest.WithStore(st)), st
}

// syncRetriedAckLost syncs a with every write transaction run twice and
// the first Ack dropped with its connection (Sync connects again).
func syncRetriedAckLost(t *testing.T, ts *servertest.TS, st *retryStore, a *agent.Replica, ta string) (agent.SyncSummary, error) {
	t.Helper()
	st.on.Store(true)
	defer st.on.Store(false)
	proxy, dropped := firstAckDropProxy(t, ts.URL[len("http://"):])
	sum, err := a.Sync(context.Background(), proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second, NoPhotos: true})
	require.EqualValues(t, 1, dropped.Load(), "the first Ack was dropped")
	return sum, err
}

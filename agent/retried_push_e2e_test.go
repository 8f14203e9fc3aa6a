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
	ctx := context.Background()
	lite, err := servertest.OpenStore(ctx, t.TempDir(), "NORMAL")
	require.NoError(t, err)
	st := &retryStore{Store: lite}
	ts := servertest.Start(t, servertest.WithStore(st))
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ chuyển nhầm"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": lost}))
	require.Equal(t, 1, realSync(t, a, ts, ta).Rejected, "the move is refused")

	tick()
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"hamlet_code": kept}))
	st.on.Store(true)
	proxy, dropped := firstAckDropProxy(t, ts.URL[len("http://"):])
	first, err := a.Sync(ctx, proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second, NoPhotos: true})
	t.Logf("sync through the proxy: %+v %v", first, err)
	require.Nil(t, first.Fork, "the correction pushed again is a duplicate, not another copy's")
	require.EqualValues(t, 1, dropped.Load(), "the correction's Ack was dropped")
	st.on.Store(false)

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
	ctx := context.Background()
	lite, err := servertest.OpenStore(ctx, t.TempDir(), "NORMAL")
	require.NoError(t, err)
	st := &retryStore{Store: lite}
	ts := servertest.Start(t, servertest.WithStore(st))
	a, ta := realAgent(t, ts, ts.TeamA)
	id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ một"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"head_name": "Hộ hai"}))
	st.on.Store(true)
	proxy, dropped := firstAckDropProxy(t, ts.URL[len("http://"):])
	first, err := a.Sync(ctx, proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second, NoPhotos: true})
	require.NoError(t, err)
	require.EqualValues(t, 1, dropped.Load())
	require.Nil(t, first.Fork)
}

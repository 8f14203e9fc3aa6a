package agent_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// floorAboveHead is a store whose log floor, once raised, stays just
// above its head: a server whose collection truncates the log as fast as
// the team writes, so every clone's head is below the floor by the time
// the pull after it asks (and every Welcome asks for a re-clone).
type floorAboveHead struct {
	server.Store
	on atomic.Bool
}

func (s *floorAboveHead) LogFloor(ctx context.Context, scopes []string) (uint64, error) {
	if !s.on.Load() {
		return s.Store.LogFloor(ctx, scopes)
	}
	h, err := s.Store.Head(ctx)
	return h + 1, err
}

// TestWatchRecloneLoopBacksOff: in `sync --watch` (and the app), a server
// that asks for a re-clone right after every completed clone must not
// have the laptop clone its whole scope again every second: a clone that
// ends asking for another is not progress (ce8efa9 reset the wait after
// any session that cloned). The first re-clone goes on at once; the ones
// after wait, longer each time.
func TestWatchRecloneLoopBacksOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lite, err := servertest.OpenStore(ctx, t.TempDir(), "NORMAL")
	require.NoError(t, err)
	st := &floorAboveHead{Store: lite}
	ts := servertest.Start(t, servertest.WithStore(st))
	a, ta := realAgent(t, ts, ts.TeamA)
	for i := 0; i < 20; i++ {
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i)})
		require.NoError(t, err)
	}
	realSync(t, a, ts, ta)

	l, tl := realAgent(t, ts, ts.TeamA)
	st.on.Store(true)
	var clones, reclones atomic.Int64
	wctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	err = l.Watch(wctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 5 * time.Second, NoPhotos: true,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Minute,
		OnSync: func(s agent.SyncSummary, err error) {
			if s.Cloned > 0 {
				clones.Add(1)
			}
			if err != nil {
				reclones.Add(1)
			}
		}})
	require.NoError(t, err)
	t.Logf("in 4 s: %d sessions told with a clone, %d failed sessions told", clones.Load(), reclones.Load())
	// Waits of 0.1, 0.2, 0.4, 0.8, 1.6 s (jittered to half of that at
	// least) after a clone at once: at most a dozen sessions in 4 s; with
	// the wait reset after each clone, some forty.
	require.LessOrEqual(t, reclones.Load(), int64(12), "the laptop cloned its scope again and again without waiting longer")
}

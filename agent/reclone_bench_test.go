package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkRecloneHeld: a laptop holding a commune (26,000 rows) is told to
// clone again (the log truncated past its cursor); the timed part is the
// sync that re-clones.
//
//	go test ./agent -run '^$' -bench RecloneHeld -benchtime 3x
func BenchmarkRecloneHeld(b *testing.B) {
	ctx := context.Background()
	ts := servertest.Start(b)
	cs := commune(uuid.New(), ts.HamletsA, 5000, 20000, 1000)
	seedServer(b, ts, cs)
	other := ts.NewDevice(b, ts.TeamA)
	oc := ts.Connect(b, other)
	var seq uint64
	b.ResetTimer()
	var s agent.SyncSummary
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := agenttest.New(b)
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(b, ts.TeamA), "bench")
		require.NoError(b, err)
		_, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
		seq++
		v, _ := syncproto.ValueOf("bench")
		_, err = oc.Push(seq, []syncproto.Change{{Table: "households", Row: cs[0].Row, Field: "address", Value: v,
			HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Dot: syncproto.Dot{Replica: other.Replica, Seq: seq}, Scope: cs[0].Scope}})
		require.NoError(b, err)
		head, err := ts.Store.Head(ctx)
		require.NoError(b, err)
		require.NoError(b, ts.Store.Update(ctx, func(tx server.Tx) error {
			for _, sc := range ts.HamletsA {
				if err := tx.RaiseFloor(sc, head); err != nil {
					return err
				}
			}
			return nil
		}))
		b.StartTimer()
		s, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
		require.Equal(b, 26000, s.Cloned, "the sync clones again")
	}
	b.ReportMetric(float64(s.Cloned), "rows")
}

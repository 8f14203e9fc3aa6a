package agent_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkScopeAddHamlet: a replica of a team of 10 hamlets (5,000
// households, 500 each, and 1,000 tutoring records) whose team gains an
// 11th hamlet of 500 households (and 100 tutoring records), over loopback
// with the real server. Each iteration times the sync that back-fills the
// gained hamlet (the hamlet is removed again, untimed, between
// iterations) and reports the bytes it received; after the loop a fresh
// replica of the team clones all 5,500 households in the same run, and
// ratio is back-fill bytes / clone bytes.
//
//	go test ./agent -run '^$' -bench ScopeAddHamlet -benchtime 3x -count 5
func BenchmarkScopeAddHamlet(b *testing.B) {
	ctx := context.Background()
	ts := servertest.Start(b)
	_, err := ts.Admin.AddHamlets(ctx, servertest.CommuneA, 5, 7)
	require.NoError(b, err)
	hamlets := make([]string, 11)
	for i := range hamlets {
		hamlets[i] = schema.HamletCode(servertest.CommuneA, i+1)
	}
	gained := hamlets[10]
	seeder, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ nhập liệu", hamlets)
	require.NoError(b, err)
	team, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ mười ấp", hamlets[:10])
	require.NoError(b, err)
	// 5,500 households, 500 a hamlet; 1,100 tutoring records, 100 a hamlet.
	cs := commune(uuid.New(), hamlets, 5500, 1100, 0)
	inGained := 0
	rows, rowsOutside := map[syncproto.RowID]bool{}, map[syncproto.RowID]bool{}
	for i := range cs {
		rows[cs[i].Row] = true
		if cs[i].Scope == gained {
			inGained++
		} else {
			rowsOutside[cs[i].Row] = true
		}
	}
	d := ts.NewDevice(b, seeder.ID)
	for i := range cs {
		cs[i].Dot.Replica = d.Replica
	}
	require.NoError(b, ts.Connect(b, d).PushAll(cs, 2000, 4))

	r := agenttest.New(b)
	tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(b, team.ID), "bench")
	require.NoError(b, err)
	s, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	require.NoError(b, err)
	require.Equal(b, len(rowsOutside), s.Cloned, "a first sync clones the ten hamlets by snapshot")

	var bytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if i > 0 {
			_, err := ts.Admin.RemoveTeamHamlet(ctx, team.ID, gained)
			require.NoError(b, err)
			_, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
			require.NoError(b, err)
		}
		_, err := ts.Admin.AddTeamHamlet(ctx, team.ID, gained)
		require.NoError(b, err)
		b.StartTimer()
		s, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
		b.StopTimer()
		require.NoError(b, err)
		require.NotNil(b, s.ScopeChange)
		require.Equal(b, inGained, s.ScopeChange.Backfilled, "only the gained hamlet travels")
		require.Equal(b, inGained, s.Pulled)
		bytes = s.BytesReceived
		b.StartTimer()
	}
	b.StopTimer()

	clone := agenttest.New(b)
	ctok, _, err := clone.Enroll(ctx, ts.URL, ts.EnrollCode(b, team.ID), "bench")
	require.NoError(b, err)
	full, err := clone.Sync(ctx, ts.URL, ctok, agent.SyncOptions{})
	require.NoError(b, err)
	require.Equal(b, len(rows), full.Cloned, "a fresh replica clones all eleven hamlets by snapshot")
	b.ReportMetric(float64(bytes), "bytes")
	b.ReportMetric(float64(full.BytesReceived), "clone-bytes")
	b.ReportMetric(float64(bytes)/float64(full.BytesReceived), "ratio")
	b.ReportMetric(float64(inGained), "changes")
}

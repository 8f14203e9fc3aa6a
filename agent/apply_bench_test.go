package agent_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkApplyClone isolates the agent's apply path of a first clone: a
// commune's changes, already decoded, applied page by page (10,000 changes,
// the server's default page) to a fresh replica, each page with its cursor
// in one transaction, as Sync does.
//
//	go test ./agent -run '^$' -bench ApplyClone -benchtime 3x
func BenchmarkApplyClone(b *testing.B) {
	cs := commune(uuid.New(), []string{hamletA, "32002-02"}, 5000, 20000, 1000)
	const page = 10000
	var pages []*syncproto.Changes
	for i := 0; i < len(cs); i += page {
		j := min(i+page, len(cs))
		pages = append(pages, &syncproto.Changes{From: uint64(i), To: uint64(j), More: j < len(cs), Changes: cs[i:j]})
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := agenttest.New(b)
		b.StartTimer()
		for _, p := range pages {
			_, err := r.ApplyChanges(ctx, p)
			require.NoError(b, err)
		}
	}
	b.ReportMetric(float64(len(cs)), "changes")
}

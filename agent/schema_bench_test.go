package agent_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkSchemaUpgrade opens a schema 1 replica of 20,000 households, half
// of which hold uses_camau_g as an unknown field, with the schema 2 agent:
// the ADD COLUMN and the backfill from the row states, per upgrade.
func BenchmarkSchemaUpgrade(b *testing.B) {
	ctx := context.Background()
	const n = 20_000
	src := filepath.Join(b.TempDir(), "v1.db")
	old, err := agent.OpenWith(ctx, src, schemaAt(b, 1))
	require.NoError(b, err)
	origin := uuid.New()
	var seq uint64
	ch := func(row syncproto.RowID, field string, v syncproto.Value) syncproto.Change {
		seq++
		return syncproto.Change{Table: "households", Row: row, Field: field, Value: v, Scope: "32002-01",
			HLC: syncproto.HLC(1_764_000_000_000<<16 + seq), Dot: syncproto.Dot{Replica: origin, Seq: seq}}
	}
	var cursor uint64
	for i := 0; i < n; i += 1000 {
		batch := &syncproto.Changes{From: cursor}
		for j := i; j < i+1000; j++ {
			row := uuid.New()
			batch.Changes = append(batch.Changes, ch(row, "hamlet_code", syncproto.String("32002-01")),
				ch(row, "head_name", syncproto.String("Hộ thử")))
			if j%2 == 0 {
				batch.Changes = append(batch.Changes, ch(row, "uses_camau_g", syncproto.Bool(j%4 == 0)))
			}
		}
		cursor += uint64(len(batch.Changes))
		batch.To = cursor
		_, err := old.ApplyChanges(ctx, batch)
		require.NoError(b, err)
	}
	require.NoError(b, old.Close())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := filepath.Join(b.TempDir(), "replica.db")
		copyFile(b, src, dst)
		b.StartTimer()
		r, err := agent.OpenWith(ctx, dst, agent.Options{})
		require.NoError(b, err)
		b.StopTimer()
		var filled int
		require.NoError(b, r.DB().QueryRow(`SELECT count(uses_camau_g) FROM households`).Scan(&filled))
		require.Equal(b, n/2, filled)
		require.NoError(b, r.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/household")
}

func copyFile(b testing.TB, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	require.NoError(b, err)
	defer in.Close()
	out, err := os.Create(dst)
	require.NoError(b, err)
	_, err = io.Copy(out, in)
	require.NoError(b, err)
	require.NoError(b, out.Close())
}

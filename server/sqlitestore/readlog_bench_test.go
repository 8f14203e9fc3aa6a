package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkReadLogClone reads a commune's log (173,000 changes in two
// hamlets, as in agent's BenchmarkFirstClone) page by page, as a first
// clone's pulls do, at the server's default page size.
//
//	go test ./server -run '^$' -bench ReadLogClone -benchtime 5x
func BenchmarkReadLogClone(b *testing.B) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "hamlet.db"), sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 4})
	require.NoError(b, err)
	defer st.Close()
	scopes := []string{"32001-01", "32001-02"}
	origin := uuid.New()
	const n = 173000
	hlc := syncproto.MakeHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	for i := 0; i < n; {
		require.NoError(b, st.Update(ctx, func(tx server.Tx) error {
			for j := 0; j < 10000 && i < n; j++ {
				row := uuid.New()
				sc := scopes[(i/9)%2]
				for f := 0; f < 9 && i < n; f++ {
					i++
					hlc++
					e := server.LogEntry{Change: syncproto.Change{Table: "households", Row: row, Field: "head_name",
						Value: syncproto.String("Nguyễn Văn Hộ"), HLC: hlc, Dot: syncproto.Dot{Replica: origin, Seq: uint64(i)}, Scope: sc}}
					if err := tx.Append(&e); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	b.ResetTimer()
	pages := 0
	for k := 0; k < b.N; k++ {
		after := uint64(0)
		got := 0
		for {
			p, err := st.ReadLog(ctx, server.LogQuery{After: after, Scopes: scopes, Exclude: uuid.New(), Limit: 10000})
			require.NoError(b, err)
			got += len(p.Entries)
			after = p.To
			pages++
			if !p.More {
				break
			}
		}
		require.Equal(b, n, got)
	}
	b.ReportMetric(float64(pages)/float64(b.N), "pages")
}

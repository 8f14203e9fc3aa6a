package sqlitestore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

const (
	benchChanges = 100_000
	benchBatch   = 5_000
)

// bareInsert is the yardstick: the same change rows bulk-inserted into one
// plain table the textbook way (one prepared INSERT executed per row, one
// transaction per batch), with the same batch size and the same pragmas as
// the store's writer connection (WAL, the same synchronous setting, so one
// fsync per commit on both sides, cache and temp store): the only
// difference is the sync logic, the log's index, the row states and the
// materialised rows.
func bareInsert(tb testing.TB, dir string, cs []syncproto.Change) time.Duration {
	_ = os.Remove(filepath.Join(dir, "bare.db"))
	_ = os.Remove(filepath.Join(dir, "bare.db-wal"))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "bare.db")+"?"+sqlitestore.WriterPragmas(benchSync()))
	require.NoError(tb, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE changes (tbl TEXT, row BLOB, field TEXT, kind INTEGER, val ANY, hlc INTEGER, origin BLOB, seq INTEGER, scope TEXT)`)
	require.NoError(tb, err)
	start := time.Now()
	for i := 0; i < len(cs); i += benchBatch {
		tx, err := db.Begin()
		require.NoError(tb, err)
		st, err := tx.Prepare(`INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		require.NoError(tb, err)
		for _, c := range cs[i:min(i+benchBatch, len(cs))] {
			_, err := st.Exec(c.Table, c.Row[:], c.Field, int64(c.Value.Kind()), c.Value.Any(), int64(c.HLC), c.Dot.Replica[:], int64(c.Dot.Seq), c.Scope)
			require.NoError(tb, err)
		}
		st.Close()
		require.NoError(tb, tx.Commit())
	}
	return time.Since(start)
}

// BenchmarkPushThroughput pushes 100,000 field changes from one agent over
// loopback and compares with a bare SQLite bulk insert of the same rows in
// the same run. Run: go test -run '^$' -bench PushThroughput -benchtime 1x ./server/sqlitestore/
func BenchmarkPushThroughput(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ts := servertest.Start(b, servertest.WithSynchronous(benchSync()))
		dev := ts.NewDevice(b, ts.TeamA)
		c := ts.Connect(b, dev)
		w := servertest.NewWriter(dev.Replica, nil)
		cs := servertest.HouseholdChanges(w, ts.HamletsA[0], benchChanges)
		// The yardstick runs right before and right after the push, and the
		// ratio uses the mean of the two: a shared machine's drift during
		// the run then weighs on both sides alike.
		// Each phase starts with no dirty pages left by the one before
		// (syscall.Sync), or its fsyncs would pay for the other's writeback.
		bareDir := b.TempDir()
		syscall.Sync()
		bare1 := bareInsert(b, bareDir, cs)
		syscall.Sync()

		b.ResetTimer()
		start := time.Now()
		require.NoError(b, c.PushAll(cs, benchBatch, 2)) // two batches in flight, like an agent
		el := time.Since(start)
		b.StopTimer()
		syscall.Sync()
		bare2 := bareInsert(b, bareDir, cs)
		bare := (bare1 + bare2) / 2
		push := float64(len(cs)) / el.Seconds()
		bareRate := float64(len(cs)) / bare.Seconds()
		b.ReportMetric(push, "changes/s")
		b.ReportMetric(bareRate, "bare-changes/s")
		b.ReportMetric(100*push/bareRate, "%-of-bare")
		b.Logf("push %d changes: %v (%.0f/s); bare insert: %v and %v, mean %.0f/s; ratio %.1f%%", len(cs), el.Round(time.Millisecond), push,
			bare1.Round(time.Millisecond), bare2.Round(time.Millisecond), bareRate, 100*push/bareRate)
		b.Logf("server time in apply+commit: %.2fs", servertest.Metric(b, ts.URL, "hamlet_push_batch_seconds_sum"))
		ts.Close()
		_ = context.Background()
	}
}

// benchSync is the synchronous pragma of both sides of the comparison:
// FULL by default, HAMLET_BENCH_SYNC=NORMAL to compare without fsync per commit.
func benchSync() string {
	if v := os.Getenv("HAMLET_BENCH_SYNC"); v != "" {
		return v
	}
	return "FULL"
}

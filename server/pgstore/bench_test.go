package pgstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

const (
	pgBenchChanges = 100_000
	pgBenchBatch   = 5_000
)

// pgBenchSync is synchronous_commit on both sides of the comparison, set on
// the benchmark's database (so every connection of the store and of the
// bare COPY has it): "on" by default, PostgreSQL's own default and what a
// deployment runs with; HAMLET_BENCH_PG_SYNC=off to compare without
// waiting for the WAL flush.
func pgBenchSync() string {
	if v := os.Getenv("HAMLET_BENCH_PG_SYNC"); v != "" {
		return v
	}
	return "on"
}

// bareCopy is the yardstick: the same change rows, encoded as the log keeps
// them (encodeValue), COPYed (pgx CopyFrom) into a plain table with the
// log's columns (CREATE TABLE ... (LIKE sync_log): columns and NOT NULLs,
// no primary key, no index), one transaction per batch of the same size
// as the push's, on a connection with the same synchronous_commit. The
// only difference is the sync logic: the merge, the log's index, the row
// states and the materialised rows.
func bareCopy(tb testing.TB, ctx context.Context, url string, cs []syncproto.Change) time.Duration {
	conn, err := pgx.Connect(ctx, url)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	var sc string
	require.NoError(tb, conn.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc))
	require.Equal(tb, pgBenchSync(), sc, "bare COPY's synchronous_commit")
	_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS bare_log; CREATE TABLE bare_log (LIKE sync_log)`)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, `CHECKPOINT`)
	require.NoError(tb, err)
	rows := make([][]any, len(cs))
	for i, c := range cs {
		vk, val := encodeValue(c.Value)
		rows[i] = []any{int64(i + 1), int16(0), c.Scope, c.Table, c.Row[:], c.Field, vk, val, int64(c.HLC),
			int64(1), int64(c.Dot.Seq), int64(0), int64(c.Base.Seq), nil}
	}
	start := time.Now()
	for i := 0; i < len(rows); i += pgBenchBatch {
		tx, err := conn.Begin(ctx)
		require.NoError(tb, err)
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"bare_log"}, logColumns, pgx.CopyFromRows(rows[i:min(i+pgBenchBatch, len(rows))]))
		require.NoError(tb, err)
		require.NoError(tb, tx.Commit(ctx))
	}
	return time.Since(start)
}

// BenchmarkPushThroughputPostgres pushes 100,000 field changes from one
// agent over loopback WebSocket through one server.Server on a fresh
// PostgreSQL database, and compares with a bare COPY of the same rows
// measured in the same run (right before and right after the push; the
// ratio uses the mean of the two).
//
// The test cluster scripts/pg-test.sh starts runs with fsync=off (and
// full_page_writes=off): commits never wait for the disk, on either side.
// Both sides run on the same cluster with the same synchronous_commit, so
// the ratio compares the sync logic against the bare COPY fairly, but the
// absolute rates are above what a cluster with fsync on would give.
//
// Run: make bench-postgres, or
// scripts/pg-test.sh go test -run '^$' -bench PushThroughputPostgres -benchtime 1x ./server/pgstore/
func BenchmarkPushThroughputPostgres(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		url := pgtest.FreshDB(b)
		admin, err := pgx.Connect(ctx, url)
		require.NoError(b, err)
		dbName := admin.Config().Database
		_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{dbName}.Sanitize()+` SET synchronous_commit = `+pgx.Identifier{pgBenchSync()}.Sanitize())
		require.NoError(b, err)
		var fsync string
		require.NoError(b, admin.QueryRow(ctx, `SHOW fsync`).Scan(&fsync))
		admin.Close(ctx)

		st, err := Open(ctx, url, Options{Logger: servertest.Logger()})
		require.NoError(b, err)
		var sc string
		require.NoError(b, st.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc))
		require.Equal(b, pgBenchSync(), sc, "store's synchronous_commit")
		ts := servertest.Start(b, servertest.WithStore(st))
		dev := ts.NewDevice(b, ts.TeamA)
		c := ts.Connect(b, dev)
		w := servertest.NewWriter(dev.Replica, nil)
		cs := servertest.HouseholdChanges(w, ts.HamletsA[0], pgBenchChanges)

		bare1 := bareCopy(b, ctx, url, cs)
		_, err = st.pool.Exec(ctx, `DROP TABLE bare_log; CHECKPOINT`)
		require.NoError(b, err)

		b.StartTimer()
		start := time.Now()
		require.NoError(b, c.PushAll(cs, pgBenchBatch, 2)) // two batches in flight, like an agent
		el := time.Since(start)
		b.StopTimer()

		var logged int
		require.NoError(b, st.pool.QueryRow(ctx, `SELECT count(*) FROM sync_log`).Scan(&logged))
		require.GreaterOrEqual(b, logged, len(cs), "every pushed change is in the log")
		bare2 := bareCopy(b, ctx, url, cs)
		bare := (bare1 + bare2) / 2
		push := float64(len(cs)) / el.Seconds()
		bareRate := float64(len(cs)) / bare.Seconds()
		b.ReportMetric(push, "changes/s")
		b.ReportMetric(bareRate, "copy-changes/s")
		b.ReportMetric(100*push/bareRate, "%-of-copy")
		b.Logf("fsync=%s synchronous_commit=%s; push %d changes: %v (%.0f/s); bare COPY: %v and %v, mean %.0f/s; ratio %.1f%%",
			fsync, sc, len(cs), el.Round(time.Millisecond), push, bare1.Round(time.Millisecond), bare2.Round(time.Millisecond), bareRate, 100*push/bareRate)
		b.Logf("server time in apply+commit: %.2fs of %.2fs", servertest.Metric(b, ts.URL, "hamlet_push_batch_seconds_sum"), el.Seconds())
		ts.Close()
	}
}

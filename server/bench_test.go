package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

const (
	benchChanges = 100_000
	benchBatch   = 5_000
)

var householdFields = []struct {
	name string
	v    func(i int) syncproto.Value
}{
	{"head_name", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("Nguyễn Văn %d", i)) }},
	{"address", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("Số %d, khóm 1", i)) }},
	{"phone", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("09%08d", i)) }},
	{"members_count", func(i int) syncproto.Value { return syncproto.Int(int64(1 + i%8)) }},
	{"has_smartphone", func(i int) syncproto.Value { return syncproto.Bool(i%2 == 0) }},
	{"vneid_installed", func(i int) syncproto.Value { return syncproto.Bool(i%3 == 0) }},
	{"vneid_level2", func(i int) syncproto.Value { return syncproto.Bool(i%4 == 0) }},
	{"uses_cashless", func(i int) syncproto.Value { return syncproto.Bool(i%5 == 0) }},
	{"registered_on", func(i int) syncproto.Value { return syncproto.String("2025-07-01") }},
}

// benchChangeSet makes n field changes: households of len(fields)+1 fields.
func benchChangeSet(w *servertest.Writer, scope string, n int) []syncproto.Change {
	out := make([]syncproto.Change, 0, n)
	for i := 0; len(out) < n; i++ {
		row := uuid.New()
		out = append(out, w.Write("households", row, "hamlet_code", syncproto.String(scope), scope))
		for _, f := range householdFields {
			if len(out) == n {
				break
			}
			out = append(out, w.Write("households", row, f.name, f.v(i), scope))
		}
	}
	return out
}

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
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "bare.db")+"?"+server.WriterPragmas(benchSync()))
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
// the same run. Run: go test -run '^$' -bench PushThroughput -benchtime 1x ./server/
func BenchmarkPushThroughput(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ts := servertest.Start(b, servertest.WithConfig(func(c *server.Config) { c.Synchronous = benchSync() }))
		dev := ts.NewDevice(b, ts.TeamA)
		c := ts.Connect(b, dev)
		w := servertest.NewWriter(dev.Replica, nil)
		cs := benchChangeSet(w, ts.HamletsA[0], benchChanges)
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
		b.Logf("server time in apply+commit: %.2fs", metricValue(b, ts.URL, "hamlet_push_batch_seconds_sum"))
		ts.Close()
		_ = context.Background()
	}
}

func metricValue(tb testing.TB, base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, name+" "), 64)
			require.NoError(tb, err)
			return v
		}
	}
	return -1
}

// benchSync is the synchronous pragma of both sides of the comparison:
// FULL by default, HAMLET_BENCH_SYNC=NORMAL to compare without fsync per commit.
func benchSync() string {
	if v := os.Getenv("HAMLET_BENCH_SYNC"); v != "" {
		return v
	}
	return "FULL"
}

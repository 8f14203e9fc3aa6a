package agent_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// dbBytes sums dbstat's page bytes (pgsize: what the B-tree occupies on
// disk, table plus its indexes) and payload bytes per object of the
// database at path.
func dbBytes(tb testing.TB, path string) (pages, payload map[string]int64) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(tb, err)
	defer db.Close()
	rows, err := db.Query(`SELECT COALESCE(m.tbl_name, d.name), SUM(d.pgsize), SUM(d.payload)
		FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1`)
	require.NoError(tb, err)
	defer rows.Close()
	pages, payload = map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var name string
		var pg, pl int64
		require.NoError(tb, rows.Scan(&name, &pg, &pl))
		pages[name], payload[name] = pg, pl
	}
	require.NoError(tb, rows.Err())
	return pages, payload
}

func sum(m map[string]int64, names ...string) int64 {
	var n int64
	for _, k := range names {
		n += m[k]
	}
	return n
}

// The definition of the ratio (issue 9, benchmarks): data is the
// materialised row table (households, with its indexes); metadata is
// everything the sync layer keeps for those rows. Server: sync_rows (one
// row per synced row: scope, parent, tombstone, the versions blob),
// sync_log with its index, replicas, sync_log_floor. Agent: row_state (the
// versions blob and history), both change logs (outbox, outbox_rows),
// tombs, conflicts. Both count whole B-tree pages (dbstat pgsize) of the
// table and its indexes. Since issue 20 both sides keep a current value
// once, in the row table, where it counts as data; the agent's search
// text is no longer stored (a search folds the row table's columns), so
// nothing that was metadata moved to a table the ratio does not count.
var (
	serverMeta = []string{"sync_rows", "sync_log", "replicas", "sync_log_floor"}
	agentMeta  = []string{"row_state", "outbox", "outbox_rows", "tombs", "conflicts"}
)

// householdValue is the value of field for household h at edit round r:
// every round changes every field.
func householdValue(field string, h, r int) any {
	switch field {
	case "head_name":
		return fmt.Sprintf("Nguyễn Văn Hộ %d-%d", h, r)
	case "address":
		return fmt.Sprintf("Số %d, tổ %d, ấp Tân Thành", h, r)
	case "phone":
		return fmt.Sprintf("09%04d%04d", h%10000, r)
	case "members_count":
		return int64(1 + (h+r)%20)
	case "registered_on":
		return fmt.Sprintf("2025-%02d-%02d", 1+r%12, 1+h%28)
	case "notes":
		return fmt.Sprintf("Lần thăm thứ %d: đã hướng dẫn cài VNeID", r)
	}
	return (h+r)%2 == 0 // the flags
}

var householdFields = []string{"head_name", "address", "phone", "members_count", "has_smartphone", "vneid_installed",
	"vneid_level2", "uses_public_services", "uses_cashless", "has_ehealth_record", "active", "registered_on", "notes"}

// BenchmarkMetadataRatio (package agent): 10,000 households (override with
// HAMLET_BENCH_HOUSEHOLDS) written on one device and edited 10 times in
// every field, pushed through a real server's apply path over loopback
// (servertest client); a real agent replica syncs after every round. Then
// compaction: every device acknowledges its cursor, server GC runs with
// log truncation, the agent collects its tombstones and compacts its
// history. Metrics: metadata bytes per data byte on the server and on the
// agent (see serverMeta/agentMeta), plus the payload-only ratios.
//
// Sub-benchmark "after" is that; "before" is the same load with what
// collection did before this work: GC compacting superseded log entries
// only (no truncation), and no agent history compaction.
func BenchmarkMetadataRatio(b *testing.B) {
	b.Run("before", func(b *testing.B) { metadataRatio(b, false) })
	b.Run("after", func(b *testing.B) { metadataRatio(b, true) })
}

func metadataRatio(b *testing.B, compact bool) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("HAMLET_BENCH_HOUSEHOLDS")); err == nil && v > 0 {
		n = v
	}
	const rounds = 10
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		ts := servertest.Start(b, servertest.WithConfig(func(c *server.Config) { c.TruncateLog = compact }))
		hamlet := ts.HamletsA[0]
		dev := ts.NewDevice(b, ts.TeamA)
		w := ts.Connect(b, dev)
		wr := servertest.NewWriter(dev.Replica, nil)
		r := agenttest.New(b)
		tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(b, ts.TeamA), "máy đo")
		require.NoError(b, err)
		sync := func() agent.SyncSummary {
			s, err := r.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: time.Minute})
			require.NoError(b, err)
			return s
		}
		ids := make([]uuid.UUID, n)
		for h := range ids {
			ids[h] = uuid.New()
		}
		for round := 0; round <= rounds; round++ {
			cs := make([]syncproto.Change, 0, n*(len(householdFields)+1))
			for h, id := range ids {
				if round == 0 {
					cs = append(cs, wr.Write("households", id, "hamlet_code", syncproto.String(hamlet), hamlet))
				}
				for _, f := range householdFields {
					v, err := syncproto.ValueOf(householdValue(f, h, round))
					require.NoError(b, err)
					cs = append(cs, wr.Write("households", id, f, v, hamlet))
				}
			}
			require.NoError(b, w.PushAll(cs, 2000, 4))
			sync()
		}
		// Compaction: every device says what it stored, GC truncates.
		_, _, to, err := w.PullAll(0)
		require.NoError(b, err)
		require.NoError(b, w.Send(&syncproto.Pull{Cursor: to, Durable: to}))
		_, err = w.RecvAnswer()
		require.NoError(b, err)
		sync()
		st, err := ts.Server.GC(ctx)
		require.NoError(b, err)
		sync()
		dropped := 0
		if compact {
			dropped, err = r.CompactHistory(ctx)
			require.NoError(b, err)
		}

		spg, spl := dbBytes(b, filepath.Join(ts.DataDir, sqlitestore.DBFile))
		apg, apl := dbBytes(b, r.Path())
		sData, aData := spg["households"], apg["households"]
		sm, am := sum(spg, serverMeta...), sum(apg, agentMeta...)
		b.ReportMetric(float64(sm)/float64(sData), "server-meta/data")
		b.ReportMetric(float64(am)/float64(aData), "agent-meta/data")
		b.ReportMetric(float64(sum(spl, serverMeta...))/float64(spl["households"]), "server-payload-ratio")
		b.ReportMetric(float64(sum(apl, agentMeta...))/float64(apl["households"]), "agent-payload-ratio")
		// Version metadata proper: the same, less the copies of field
		// values the versions blobs carry (they are data, stored twice).
		sVals, sCopied := serverBlobValueBytes(b, filepath.Join(ts.DataDir, sqlitestore.DBFile))
		// The baseline in the same run: the server's ratio had its blobs
		// copied every value (issue 9's format), payload bytes added to
		// its pages.
		b.ReportMetric(float64(sm+sCopied)/float64(sData), "server-meta/data-values-copied")
		aVals, err := agent.StateValueBytes(ctx, r)
		require.NoError(b, err)
		b.ReportMetric(float64(sm-sVals)/float64(sData), "server-version-meta/data")
		b.ReportMetric(float64(am-aVals)/float64(aData), "agent-version-meta/data")
		b.Logf("value copies in versions blobs: server %d B, agent %d B", sVals, aVals)
		b.Logf("households=%d gc: %+v; agent history versions dropped %d", n, st, dropped)
		b.Logf("server pages: data %d; %v", sData, pick(spg, serverMeta))
		b.Logf("agent pages: data %d; %v", aData, pick(apg, agentMeta))
		b.Logf("agent row_state payload: state blobs %d; server sync_rows versions blobs %d",
			colBytes(b, r.Path(), `SELECT SUM(length(state)) FROM row_state`),
			colBytes(b, filepath.Join(ts.DataDir, sqlitestore.DBFile), `SELECT SUM(length(versions)) FROM sync_rows`))
		ts.Close()
	}
}

func pick(m map[string]int64, names []string) map[string]int64 {
	out := map[string]int64{}
	for _, k := range names {
		out[k] = m[k]
	}
	return out
}

func colBytes(tb testing.TB, path, q string) int64 {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(tb, err)
	defer db.Close()
	var n sql.NullInt64
	require.NoError(tb, db.QueryRow(q).Scan(&n))
	return n.Int64
}

// serverBlobValueBytes is how many bytes of the server's sync_rows versions
// blobs are copies of field values: each blob as stored, less the same
// versions re-encoded with every value nulled. (Values the row table holds
// are not in the blob: they count nothing.) copied is how many more bytes
// the blobs would hold if they copied every value, as before issue 20: the
// same versions re-encoded with no row table.
func serverBlobValueBytes(tb testing.TB, path string) (total, copied int64) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(tb, err)
	defer db.Close()
	// The households' row table, by id: the values the blobs leave out.
	hh := map[string]map[string]any{}
	rows, err := db.Query(`SELECT * FROM households`)
	require.NoError(tb, err)
	cols, err := rows.Columns()
	require.NoError(tb, err)
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(tb, rows.Scan(ptrs...))
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		hh[fmt.Sprint(m["id"])] = m
	}
	require.NoError(tb, rows.Err())
	rows.Close()
	rows, err = db.Query(`SELECT tbl, row, versions FROM sync_rows`)
	require.NoError(tb, err)
	defer rows.Close()
	// Replica numbers only need to round-trip within one blob's encoding.
	ids := map[syncproto.ReplicaID]int64{}
	byNum := map[int64]syncproto.ReplicaID{}
	replica := func(n int64) (syncproto.ReplicaID, error) {
		if r, ok := byNum[n]; ok {
			return r, nil
		}
		r := uuid.New()
		byNum[n], ids[r] = r, n
		return r, nil
	}
	idx := func(r syncproto.ReplicaID) (int64, error) { return ids[r], nil }
	for rows.Next() {
		var tbl string
		var id, blob []byte
		require.NoError(tb, rows.Scan(&tbl, &id, &blob))
		row := hh[uuid.UUID(id).String()]
		vs, err := versions.Decode(blob, replica, func(f string) (any, bool) {
			if tbl != "households" || row == nil {
				return nil, false
			}
			x, ok := row[f]
			return x, ok
		})
		require.NoError(tb, err)
		inline, err := versions.Encode(nil, vs, idx, nil)
		require.NoError(tb, err)
		copied += int64(len(inline) - len(blob))
		for f, v := range vs {
			v.Value = syncproto.Null()
			vs[f] = v
		}
		bare, err := versions.Encode(nil, vs, idx, nil)
		require.NoError(tb, err)
		total += int64(len(blob) - len(bare))
	}
	require.NoError(tb, rows.Err())
	return total, copied
}

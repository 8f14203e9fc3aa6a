package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkSnapshotRows reads 40,000 households of 14 fields each page by
// page, as a first clone's snapshot requests do (2,000 rows a page): the
// store's share of the server's CPU per clone (issue 20, clone at the
// limit). "earlier-format" is the same rows with the versions blobs of
// builds before issue 20 (every value copied, no row table read).
//
//	go test ./server/sqlitestore -run '^$' -bench SnapshotRows -benchtime 5x -cpuprofile cpu.out
func BenchmarkSnapshotRows(b *testing.B) {
	for _, earlier := range []bool{false, true} {
		name := "current"
		if earlier {
			name = "earlier-format"
		}
		b.Run(name, func(b *testing.B) { snapshotRows(b, earlier) })
		if testing.Short() {
			break
		}
	}
}

func snapshotRows(b *testing.B, earlier bool) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "hamlet.db")
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 4})
	require.NoError(b, err)
	defer st.Close()
	scopes := []string{"32001-01", "32001-02"}
	origin := uuid.New()
	const n = 40000
	hlc := syncproto.MakeHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	seq := uint64(0)
	for i := 0; i < n; {
		require.NoError(b, st.Update(ctx, func(tx server.Tx) error {
			var saves []server.RowSave
			for j := 0; j < 2000 && i < n; j, i = j+1, i+1 {
				sc := scopes[i%2]
				vs := map[string]syncproto.Version{}
				fields := map[string]syncproto.Value{}
				for f, v := range map[string]syncproto.Value{
					"hamlet_code": syncproto.String(sc), "head_name": syncproto.String(fmt.Sprintf("Nguyễn Văn Hộ %d", i)),
					"address": syncproto.String(fmt.Sprintf("Số %d, tổ 3, ấp Tân Thành", i)), "phone": syncproto.String(fmt.Sprintf("09%08d", i)),
					"members_count": syncproto.Int(int64(1 + i%9)), "has_smartphone": syncproto.Bool(i%2 == 0), "vneid_installed": syncproto.Bool(i%3 == 0),
					"vneid_level2": syncproto.Bool(false), "uses_public_services": syncproto.Bool(true), "uses_cashless": syncproto.Bool(i%5 == 0),
					"has_ehealth_record": syncproto.Bool(true), "active": syncproto.Bool(true), "registered_on": syncproto.String("2025-03-14"),
					"notes": syncproto.String("Đã hướng dẫn cài VNeID"),
				} {
					seq++
					hlc++
					vs[f] = syncproto.Version{Value: v, HLC: hlc, Dot: syncproto.Dot{Replica: origin, Seq: seq}}
					fields[f] = v
				}
				saves = append(saves, server.RowSave{Ref: server.RowRef{Table: "households", Row: uuid.New()},
					State: &server.RowState{Scope: sc, Versions: vs}, Fields: fields})
			}
			return tx.SaveRows(saves)
		}))
	}
	if earlier {
		rewriteEarlierFormat(b, path)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for k := 0; k < b.N; k++ {
		var after server.RowRef
		got, fields := 0, 0
		for {
			// As the server's chunks take them: up to 2,000 rows and
			// 10,000 fields (syncproto's MaxChanges).
			page, err := st.SnapshotRows(ctx, server.SnapshotQuery{Scopes: scopes, After: after, Limit: 2000, MaxFields: 10000})
			require.NoError(b, err)
			more, inChunk := len(page) == 2000, 0
			for i, r := range page {
				if i > 0 && inChunk+len(r.Fields) > 10000 {
					more = true
					break
				}
				inChunk += len(r.Fields)
				got++
				after = r.Ref
			}
			fields += inChunk
			if !more {
				break
			}
		}
		require.Equal(b, n, got)
		require.Equal(b, 14*n, fields)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
	// CPU time holds still on a shared machine where wall time does not.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/row")
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rewriteEarlierFormat rewrites every versions blob at path in the format
// of builds before issue 20 (versions.EncodeCompact: the values copied).
func rewriteEarlierFormat(b *testing.B, path string) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(b, err)
	defer db.Close()
	reps := map[int64]syncproto.ReplicaID{}
	rows, err := db.Query(`SELECT idx, id FROM replicas`)
	require.NoError(b, err)
	for rows.Next() {
		var idx int64
		var id []byte
		require.NoError(b, rows.Scan(&idx, &id))
		reps[idx] = uuid.UUID(id)
	}
	require.NoError(b, rows.Err())
	rows.Close()
	byID := map[syncproto.ReplicaID]int64{}
	for i, r := range reps {
		byID[r] = i
	}
	type row struct{ id, blob []byte }
	var all []row
	rows, err = db.Query(`SELECT s.row, s.versions, t.hamlet_code, t.head_name, t.address, t.phone, t.members_count, t.registered_on, t.notes
		FROM sync_rows s JOIN households t ON t.id = lower(substr(hex(s.row),1,8)||'-'||substr(hex(s.row),9,4)||'-'||substr(hex(s.row),13,4)||'-'||substr(hex(s.row),17,4)||'-'||substr(hex(s.row),21))`)
	require.NoError(b, err)
	for rows.Next() {
		var r row
		var vals [7]any
		require.NoError(b, rows.Scan(&r.id, &r.blob, &vals[0], &vals[1], &vals[2], &vals[3], &vals[4], &vals[5], &vals[6]))
		names := []string{"hamlet_code", "head_name", "address", "phone", "members_count", "registered_on", "notes"}
		vs, err := versions.Decode(r.blob, func(i int64) (syncproto.ReplicaID, error) { return reps[i], nil }, func(f string) (any, bool) {
			for i, n := range names {
				if n == f {
					return vals[i], true
				}
			}
			return nil, false
		})
		require.NoError(b, err)
		r.blob, err = versions.EncodeCompact(nil, vs, func(id syncproto.ReplicaID) (int64, error) { return byID[id], nil })
		require.NoError(b, err)
		all = append(all, r)
	}
	require.NoError(b, rows.Err())
	rows.Close()
	require.Len(b, all, 40000)
	tx, err := db.Begin()
	require.NoError(b, err)
	for _, r := range all {
		_, err := tx.Exec(`UPDATE sync_rows SET versions = ? WHERE row = ?`, r.blob, r.id)
		require.NoError(b, err)
	}
	require.NoError(b, tx.Commit())
}

package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// rawReplica makes a replica file with households written on this laptop
// (pending), a setting, and its log folded into the file.
func rawReplica(t testing.TB, households int) (string, *Replica) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, r.SetEnrollment(ctx, &Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), Scope: []Hamlet{{Code: "32002-01"}}}))
	for i := 0; i < households; i++ {
		_, err := r.AddHousehold(ctx, Fields{"hamlet_code": "32002-01", "head_name": "Hộ " + uuid.NewString()})
		require.NoError(t, err)
	}
	require.NoError(t, r.Close())
	return path, r
}

// With the schema gone (page 1 and every other page of sqlite_schema),
// SQLite reads nothing; page by page, every row state, change-log entry
// and setting is still there.
func TestRawRecordsWithoutSchema(t *testing.T) {
	t.Parallel()
	path, r := rawReplica(t, 300)
	ctx := context.Background()
	db, err := OpenWith(ctx, path, Options{})
	require.NoError(t, err)
	var states, changes int
	require.NoError(t, db.db.QueryRow(`SELECT count(*) FROM row_state`).Scan(&states))
	require.NoError(t, db.db.QueryRow(`SELECT count(*) FROM outbox`).Scan(&changes))
	rows, err := db.db.Query(`SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'`)
	require.NoError(t, err)
	var schemaPages []int64
	for rows.Next() {
		var p int64
		require.NoError(t, rows.Scan(&p))
		schemaPages = append(schemaPages, p)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, db.Close())
	require.Greater(t, len(schemaPages), 1, "the schema spans pages")

	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	for _, p := range schemaPages {
		junk := make([]byte, 4096)
		for i := range junk {
			junk[i] = 0xA5
		}
		_, err = f.WriteAt(junk, (p-1)*4096)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	_, err = Open(ctx, path)
	require.Error(t, err, "SQLite cannot open it")

	raw, err := rawRecords(path)
	require.NoError(t, err)
	require.Len(t, raw.states, states)
	require.Len(t, raw.outbox, changes)
	require.Equal(t, r.ID().String(), raw.meta["replica_id"])
	require.NotNil(t, raw.meta["seq"])
	require.NotNil(t, raw.meta["enrollment"])
	for _, row := range raw.outbox {
		require.GreaterOrEqual(t, len(row), len(outboxBase))
		require.IsType(t, int64(0), row[0], "the seq is the rowid")
	}
	// Each state keeps its current values in the row table: they are
	// read page by page too, and every state decodes with them.
	cols, err := rowTableColumns(ctx, nil)
	require.NoError(t, err)
	sv := &salvaged{meta: map[string]any{}, unreadable: map[string]int{}}
	sv.merge(raw, cols)
	require.Zero(t, sv.undecodable)
	require.Len(t, sv.states, states)
	for _, st := range sv.states {
		require.Contains(t, st.str("head_name"), "Hộ ", "the value from the households record")
	}
}

// FuzzRawRecords: a damaged file is input from outside; no bytes make
// the page reader panic or loop. The input is a file and its log, split
// at walAt.
func FuzzRawRecords(f *testing.F) {
	path, _ := rawReplica(f, 20)
	good, err := os.ReadFile(path)
	require.NoError(f, err)
	f.Add(good[:8192], uint16(8192))
	f.Add(good[4096:12288], uint16(4096))
	f.Add(append([]byte("SQLite format 3\x00"), 0x37, 0x7f, 0x06, 0x82), uint16(16))
	f.Fuzz(func(t *testing.T, data []byte, walAt uint16) {
		if len(data) > 1<<16 {
			return
		}
		at := min(int(walAt), len(data))
		_ = rawRecordsOf(data[:at], data[at:])
	})
}

package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// conflictServer makes a data directory whose conflict log holds n
// conflicts on one household's phone (concurrent writes of two devices),
// and returns it with the losers' values.
func conflictServer(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	ts := servertest.Start(t, servertest.WithDataDir(dir))
	hamlet := ts.HamletsA[0]
	da, db := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, da), ts.Connect(t, db)
	// B's clock is an hour behind: its writes always lose, exactly one
	// conflict per round.
	wa := servertest.NewWriter(da.Replica, nil)
	wb := servertest.NewWriter(db.Replica, func() time.Time { return time.Now().Add(-time.Hour) })
	row := uuid.New()
	_, err := a.Push(1, wa.Household(row, hamlet, "Hộ thử"))
	require.NoError(t, err)
	var losers []string
	for i := range n {
		// B writes first, A later without having seen it: A wins, B's
		// value goes to the conflict log.
		lose := "09000000" + string(rune('0'+i%10)) + string(rune('0'+i/10))
		cb := wb.Write("households", row, "phone", syncproto.String(lose), hamlet)
		ca := wa.Write("households", row, "phone", syncproto.String("0912345678"), hamlet)
		_, err = a.Push(uint64(i+2), []syncproto.Change{ca})
		require.NoError(t, err)
		_, err = b.Push(uint64(i+1), []syncproto.Change{cb})
		require.NoError(t, err)
		losers = append(losers, lose)
	}
	ts.Close()
	return dir, losers
}

func conflictCount(t *testing.T, dir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlitestore.DBFile)+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sync_conflicts`).Scan(&n))
	return n
}

// TestConflictsArchive: entries older than --older-than go to the JSON
// Lines file, fsynced, and only then leave the conflict log; a bad output
// path, or one that exists, removes nothing.
func TestConflictsArchive(t *testing.T) {
	dir, losers := conflictServer(t, 3)
	require.Equal(t, 3, conflictCount(t, dir))

	// An output path that cannot be written: nothing removed.
	bad := filepath.Join(dir, "no-such-dir", "archive.jsonl")
	code, _, stderr := cli(t, dir, "conflicts", "archive", "--older-than", "0d", "--out", bad)
	require.NotZero(t, code)
	require.Contains(t, stderr, "chưa xóa mục nào")
	require.Equal(t, 3, conflictCount(t, dir), "a failed archive removed entries")

	// An existing file is not overwritten: nothing removed.
	exists := filepath.Join(t.TempDir(), "old.jsonl")
	require.NoError(t, os.WriteFile(exists, []byte("giữ nguyên\n"), 0o600))
	code, _, stderr = cli(t, dir, "conflicts", "archive", "--older-than", "0d", "--out", exists)
	require.NotZero(t, code)
	require.Contains(t, stderr, "tệp đã tồn tại")
	got, err := os.ReadFile(exists)
	require.NoError(t, err)
	require.Equal(t, "giữ nguyên\n", string(got))
	require.Equal(t, 3, conflictCount(t, dir))

	// Nothing older than 90 days: nothing written, nothing removed.
	out := filepath.Join(t.TempDir(), "conflicts.jsonl")
	code, stdout, _ := cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", out)
	require.Zero(t, code)
	require.Contains(t, stdout, "Không có mục xung đột nào")
	require.NoFileExists(t, out)
	require.Equal(t, 3, conflictCount(t, dir))

	// A bad age is refused with what to write.
	code, _, stderr = cli(t, dir, "conflicts", "archive", "--older-than", "ba tháng", "--out", out)
	require.NotZero(t, code)
	require.Contains(t, stderr, "90d")

	code, stdout, stderr = cli(t, dir, "conflicts", "archive", "--older-than", "0d", "--out", out)
	require.Zero(t, code, stderr)
	require.Contains(t, stdout, "Đã lưu 3 mục xung đột")
	require.Zero(t, conflictCount(t, dir))
	lines, err := archive.Read(out)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	var vals []string
	for _, c := range lines {
		require.Equal(t, "households", c.Table)
		require.Equal(t, "phone", c.Field)
		require.Equal(t, "string", c.Loser.Kind)
		require.NotEmpty(t, c.Loser.Replica)
		require.NotZero(t, c.Loser.HLC)
		require.NotEmpty(t, c.Winner.Replica)
		vals = append(vals, c.Loser.Value.(string))
	}
	require.ElementsMatch(t, losers, vals)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(raw), "\n"), "one conflict a line")
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// addConflict makes the replica in dir record one conflict at `at`: a
// local phone edit loses to a concurrent pulled one.
func addConflict(t *testing.T, dir string, at time.Time, cursor uint64, phone string) {
	t.Helper()
	ctx := context.Background()
	r, err := agent.OpenWith(ctx, filepath.Join(dir, "replica.db"), agent.Options{Now: func() time.Time { return at }})
	require.NoError(t, err)
	defer r.Close()
	id, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": "32002-01", "head_name": "Lê Văn Tám", "phone": phone})
	require.NoError(t, err)
	_, err = r.ApplyChanges(ctx, &syncproto.Changes{From: cursor, To: cursor + 1, Changes: []syncproto.Change{{
		Table: "households", Row: id, Field: "phone", Value: syncproto.String("0987654321"), Scope: "32002-01",
		HLC: syncproto.MakeHLC(at.UnixMilli()+1000, 0), Dot: syncproto.Dot{Replica: uuid.New(), Seq: 1},
	}}})
	require.NoError(t, err)
}

func conflictRows(t *testing.T, dir string) int {
	t.Helper()
	r, err := agent.Open(context.Background(), filepath.Join(dir, "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	cs, err := r.Conflicts(context.Background(), true)
	require.NoError(t, err)
	return len(cs)
}

// TestCLIConflictsArchive: `conflicts archive` moves entries older than
// --older-than to a JSON Lines file, written and fsynced first; a failing
// output path or an existing file removes nothing.
func TestCLIConflictsArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	addConflict(t, dir, time.Now().Add(-100*24*time.Hour), 0, "0911111111")
	addConflict(t, dir, time.Now().Add(-time.Hour), 1, "0922222222")
	require.Equal(t, 2, conflictRows(t, dir))

	bad := filepath.Join(dir, "no-such-dir", "a.jsonl")
	r := cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", bad)
	require.NotZero(t, r.code)
	require.Contains(t, r.stderr, "Chưa xóa mục nào")
	require.Equal(t, 2, conflictRows(t, dir), "a failed archive removed entries")

	exists := filepath.Join(t.TempDir(), "x.jsonl")
	require.NoError(t, os.WriteFile(exists, []byte("cũ\n"), 0o600))
	r = cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", exists)
	require.NotZero(t, r.code)
	require.Contains(t, r.stderr, "không ghi đè")
	require.Equal(t, 2, conflictRows(t, dir))

	r = cli(t, dir, "conflicts", "archive", "--older-than", "chín mươi", "--out", exists)
	require.NotZero(t, r.code)
	require.Contains(t, r.stderr, "90d")

	out := filepath.Join(t.TempDir(), "conflicts.jsonl")
	r = cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", out)
	require.Zero(t, r.code, r.stderr)
	require.Contains(t, r.stdout, "Đã lưu 1 xung đột")
	require.Equal(t, 1, conflictRows(t, dir), "the recent conflict stays")
	got, err := archive.Read(out)
	require.NoError(t, err)
	require.Len(t, got, 1)
	c := got[0]
	require.Equal(t, "households", c.Table)
	require.Equal(t, "phone", c.Field)
	require.Equal(t, "32002-01", c.Scope)
	require.Equal(t, "0911111111", c.Loser.Value)
	require.Equal(t, "0987654321", c.Winner.Value)
	require.Equal(t, "string", c.Loser.Kind)
	require.NotEmpty(t, c.Row)

	r = cli(t, dir, "conflicts", "archive", "--lang", "en", "--older-than", "90d", "--out", filepath.Join(t.TempDir(), "y.jsonl"))
	require.Zero(t, r.code, r.stderr)
	require.Contains(t, r.stdout, "No conflicts older")
}

// `compact` runs on a replica and says what it did; a local-only replica
// (everything still to push) keeps all its history.
func TestCLICompact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn An")
	r := cli(t, dir, "household", "edit", id, "--phone", "0987654321")
	require.Zero(t, r.code, r.stderr)
	r = cli(t, dir, "compact")
	require.Zero(t, r.code, r.stderr)
	require.Contains(t, r.stdout, "Không có giá trị cũ nào để bỏ")
	r = cli(t, dir, "compact", "--lang", "en", "--json")
	require.Zero(t, r.code, r.stderr)
	require.JSONEq(t, `{"dropped": 0}`, r.stdout)
}

// An archive whose own disk is full was told as the replica's full disk
// (the CLI classifies every failure of a command against the replica), and
// without saying that the conflicts list was left as it was (helper 126).
func TestConflictsArchiveOnAFullDiskNamesTheArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	addConflict(t, dir, time.Now().Add(-100*24*time.Hour), 0, "0911111111")
	addConflict(t, dir, time.Now().Add(-100*24*time.Hour), 1, "0922222222")
	disk := smallDisk(t, 1<<20)
	fill(t, disk)
	out := filepath.Join(disk, "a.jsonl")
	for _, tc := range []struct{ lang, untouched string }{
		{"vi", "Chưa xóa mục nào khỏi danh sách xung đột"},
		{"en", "Nothing was removed from the conflicts list"},
	} {
		r := cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", out, "--lang", tc.lang)
		require.Equal(t, exitError, r.code, r.stderr)
		require.Equal(t, 2, conflictRows(t, dir), "the list stays whole")
		_, err := os.Stat(out)
		require.True(t, os.IsNotExist(err), "no archive left half-written")
		require.NotContains(t, r.stderr, "replica.db", "the full disk is the archive's, not the replica's")
		require.Contains(t, r.stderr, out)
		require.Contains(t, r.stderr, tc.untouched)
	}
}

// --out naming a file or a folder that exists was told with the general
// "the command did not finish: try again" (which fails the same way), the
// reason only in the detail for IT staff (helper 130).
func TestConflictsArchiveOntoAnExistingPathSaysChooseAnother(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	addConflict(t, dir, time.Now().Add(-100*24*time.Hour), 0, "0911111111")
	file := filepath.Join(t.TempDir(), "x.jsonl")
	require.NoError(t, os.WriteFile(file, []byte("cũ\n"), 0o600))
	for _, out := range []string{file, t.TempDir()} {
		for _, tc := range []struct{ lang, tryAgain, exists string }{
			{"en", "try again", "exists already"},
			{"vi", "thử lại", "đã có một tệp hoặc thư mục tên"},
		} {
			r := cli(t, dir, "conflicts", "archive", "--older-than", "90d", "--out", out, "--lang", tc.lang)
			require.Equal(t, exitError, r.code, r.stderr)
			require.Equal(t, 1, conflictRows(t, dir))
			require.NotContains(t, r.stderr, tc.tryAgain, "%s: running it again fails again", out)
			require.Contains(t, r.stderr, tc.exists)
			require.Contains(t, r.stderr, "--out")
		}
	}
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, "cũ\n", string(got), "never overwritten")
}

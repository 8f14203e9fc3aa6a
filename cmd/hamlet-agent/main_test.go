package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

type result struct {
	code           int
	stdout, stderr string
}

func cli(t testing.TB, dir string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "--data-dir", dir), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// addHH adds a household and returns its id (via --json).
func addHH(t testing.TB, dir, head string) string {
	t.Helper()
	r := cli(t, dir, "household", "add", "--hamlet", "32002-01", "--head", head, "--phone", "0912 345 678", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec))
	return rec.ID
}

// enrollLocally stores an enrollment without a server, as enroll would.
func enrollLocally(t testing.TB, dir string) {
	t.Helper()
	e := &env{dataDir: dir}
	r, err := e.open(context.Background())
	require.NoError(t, err)
	require.NoError(t, r.SetEnrollment(context.Background(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(),
		TeamName: "Tổ 1", Scope: []agent.Hamlet{{Code: "32002-01", Name: "Ấp Tân Thành"}}}))
	require.NoError(t, r.Close())
}

func TestCLIRecordsAndLists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn Đức")
	r := cli(t, dir, "household", "search", "duc")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Nguyễn Văn Đức")
	require.Contains(t, r.stdout, "0912345678")

	r = cli(t, dir, "tutor", "add", "--household", id[:8], "--skill", "vneid_install", "--person", "Bà Tư")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Đã lưu")
	r = cli(t, dir, "visit", "add", "--household", id, "--notes", "hướng dẫn cài VNeID")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "Đèn đường hỏng", "--consent", "không")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "household", "edit", id, "--members", "4", "--vneid", "có")
	require.Equal(t, 0, r.code, r.stderr)

	r = cli(t, dir, "household", "show", id, "--lang", "en")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Number of household members")
	require.Contains(t, r.stdout, "this laptop")
	require.Contains(t, r.stdout, "Tutoring: 1")

	for _, cmd := range [][]string{{"tutor", "list"}, {"visit", "list"}, {"report", "list"}, {"status"}, {"conflicts"}, {"rejected"}, {"tutor", "skills"}} {
		r = cli(t, dir, append(cmd, "--json")...)
		require.Equal(t, 0, r.code, "%v: %s", cmd, r.stderr)
		require.True(t, json.Valid([]byte(r.stdout)), "%v: %s", cmd, r.stdout)
	}
	r = cli(t, dir, "status")
	require.Contains(t, r.stdout, "Thay đổi chờ gửi")
	require.Contains(t, r.stdout, "Tổ 1")
	r = cli(t, dir, "household", "search", "tan thanh") // by hamlet name
	require.Contains(t, r.stdout, "Nguyễn Văn Đức")
}

// TestCLIBadInput: each bad input gives a message in the volunteer's
// language saying what to do, a non-zero exit, and an intact replica.
func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Trần Thị Hoa")
	gone := addHH(t, dir, "Hộ đã chuyển đi")
	require.Zero(t, cli(t, dir, "household", "delete", gone).code)
	pending := func() string {
		r := cli(t, dir, "status", "--json")
		var s struct{ Pending int }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
		return strings.Repeat("x", s.Pending)
	}
	before := pending()
	foreign := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(foreign, "replica.db"), []byte("not a database at all, just text"), 0o600))
	tests := []struct {
		name string
		dir  string
		args []string
		vi   string
		en   string
	}{
		{"unknown skill", dir, []string{"tutor", "add", "--household", id, "--skill", "bay"}, "không có trong danh mục", "not in the catalogue"},
		{"empty head", dir, []string{"household", "add", "--hamlet", "32002-01", "--head", "  "}, "Chưa nhập tên chủ hộ", "missing"},
		{"malformed phone", dir, []string{"household", "edit", id, "--phone", "12-34"}, "Số điện thoại không hợp lệ", "Invalid phone"},
		{"edit a deleted household", dir, []string{"household", "edit", gone, "--phone", "0912345678"}, "đã bị xóa", "restore it first"},
		// The same check the server runs on a push (schema.Table.CheckWrite).
		{"visit in 2030", dir, []string{"visit", "add", "--household", id, "--date", "2030-01-01"}, "Ngày thăm hộ ở tương lai", "Visit date is in the future"},
		{"report filed as dispatched", dir, []string{"report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--set", "status=dispatched"},
			"Trạng thái do cán bộ điều phối phản ánh cập nhật", "Status is set by the coordinators"},
		{"report dispatch time", dir, []string{"report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--set", "dispatched_at=1767229200000"},
			"do cán bộ điều phối phản ánh cập nhật", "set by the coordinators"},
		{"unknown household", dir, []string{"visit", "add", "--household", "deadbeef-0000-0000-0000-000000000000"}, "Không tìm thấy hộ", "No household"},
		{"foreign replica", foreign, []string{"status"}, "không phải dữ liệu Hamlet", "not a Hamlet replica"},
		{"not enrolled", dir, []string{"sync"}, "chưa được đăng ký", "not enrolled"},
		{"out of scope", dir, []string{"household", "add", "--hamlet", "32002-04", "--head", "A"}, "không thuộc địa bàn", "not one your team covers"},
		{"unreachable server", dir, []string{"sync", "--server", "http://127.0.0.1:1"}, "Không kết nối được máy chủ", "Cannot reach"},
		{"wrong url", dir, []string{"enroll", "--server", "ftp://nowhere", "--code", "ABCD-EFGH"}, "không phải máy chủ Hamlet", "not a Hamlet server"},
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("tok"), 0o600))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.name == "not enrolled" {
				os.Rename(filepath.Join(dir, "token"), filepath.Join(dir, "token.bak"))
				defer os.Rename(filepath.Join(dir, "token.bak"), filepath.Join(dir, "token"))
			}
			r := cli(t, tt.dir, args...)
			require.Equal(t, exitError, r.code, r.stdout+r.stderr)
			require.Contains(t, r.stderr, tt.vi)
			r = cli(t, tt.dir, append(args, "--lang", "en")...)
			require.Equal(t, exitError, r.code)
			require.Contains(t, r.stderr, tt.en)
			if tt.dir == dir {
				require.Equal(t, before, pending(), "replica intact")
			}
		})
	}
	data, err := os.ReadFile(filepath.Join(foreign, "replica.db"))
	require.NoError(t, err)
	require.Equal(t, "not a database at all, just text", string(data))
}

func TestLanguageFromEnvironment(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "en_US.UTF-8")
	require.Equal(t, "en", langFromEnv(nil))
	require.Equal(t, "vi", langFromEnv([]string{"--lang", "vi"}))
	t.Setenv("LANG", "vi_VN.UTF-8")
	require.Equal(t, "vi", langFromEnv(nil))
	require.Equal(t, "en", langFromEnv([]string{"--lang=en"}))
}

// BenchmarkCLITutorAdd records one tutoring record with the hamlet-agent
// binary as a whole process (start, open the replica, validate, one
// transaction, close) on a replica holding 20,000 households; the
// replica is filled by hamlet-agent import. make bench-vs-bare prints the
// same figure next to a bare SQLite process.
//
//	go test ./cmd/hamlet-agent -run '^$' -bench TutorAdd
func BenchmarkCLITutorAdd(b *testing.B) {
	bin := agentBinary(b)
	dir := b.TempDir()
	enrollLocally(b, dir)
	var csv strings.Builder
	csv.WriteString("Họ tên chủ hộ,Số điện thoại\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&csv, "Hộ %d,09%08d\n", i, i)
	}
	file := filepath.Join(b.TempDir(), "ho.csv")
	require.NoError(b, os.WriteFile(file, []byte(csv.String()), 0o600))
	out, err := exec.Command(bin, "import", file, "--data-dir", dir).CombinedOutput()
	require.NoError(b, err, "%s", out)
	out, err = exec.Command(bin, "household", "search", "Hộ 2500", "--json", "--data-dir", dir).CombinedOutput()
	require.NoError(b, err, "%s", out)
	var hs []struct{ ID string }
	require.NoError(b, json.Unmarshal(out, &hs))
	require.NotEmpty(b, hs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := exec.Command(bin, "tutor", "add", "--household", hs[0].ID, "--skill", "cashless_payment", "--outcome", "needs_help", "--data-dir", dir).CombinedOutput()
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

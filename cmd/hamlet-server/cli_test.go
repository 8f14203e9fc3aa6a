package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// cli runs one hamlet-server command in-process, as an operator would.
func cli(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append(args, "--data-dir", dir), &out, &errOut)
	return code, out.String(), errOut.String()
}

// dataFile is a reference file as the project ships it (schema/refdata), which
// must be byte-identical to the source in ../shared/data when that is present.
func dataFile(t *testing.T, name string) string {
	t.Helper()
	ours := filepath.Join("..", "..", "schema", "refdata", name)
	if shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", name)); err == nil {
		mine, err := os.ReadFile(ours)
		require.NoError(t, err)
		require.Equal(t, shared, mine, "schema/refdata/%s must be the shared file as it is", name)
		return filepath.Join("..", "..", "..", "shared", "data", name)
	}
	return ours
}

func TestOperatorWorkflow(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Equal(t, 0, code, errOut)
	require.NotEmpty(t, out)
	code, _, errOut = cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--count", "4")
	require.Equal(t, 0, code, errOut)

	code, out, errOut = cli(t, dir, "team", "create", "--commune", "32248", "--name", "Tổ CNSCĐ Ấp Xóm Mũi", "--hamlets", "32248-01,32248-02", "--json")
	require.Equal(t, 0, code, errOut)
	var team struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(out), &team))
	require.NotEmpty(t, team.ID)

	code, out, errOut = cli(t, dir, "member", "add", "--team", team.ID, "--name", "Nguyễn Thị Lan", "--role", "leader", "--phone", "0912345678", "--json")
	require.Equal(t, 0, code, errOut)
	var member struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(out), &member))

	code, out, errOut = cli(t, dir, "code", "issue", "--member", member.ID, "--json")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `[A-Z2-9]{4}-[A-Z2-9]{4}`, out)

	for _, listing := range [][]string{{"device", "list"}, {"team", "list"}, {"status"}} {
		code, out, errOut = cli(t, dir, append(listing, "--json")...)
		require.Equal(t, 0, code, "%v: %s", listing, errOut)
		require.True(t, json.Valid([]byte(out)), "%v --json prints JSON: %q", listing, out)
	}
	code, out, _ = cli(t, dir, "team", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Tổ CNSCĐ Ấp Xóm Mũi")

	backup := filepath.Join(t.TempDir(), "backup.db")
	code, _, errOut = cli(t, dir, "backup", "--out", backup)
	require.Equal(t, 0, code, errOut)
	db, err := sql.Open("sqlite", backup)
	require.NoError(t, err)
	defer db.Close()
	var teams int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM teams").Scan(&teams))
	require.Equal(t, 1, teams)
	var communes int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM admin_units WHERE level = 'commune' AND retired_on IS NULL").Scan(&communes))
	require.Equal(t, 64, communes, "after the 2025 import, 64 communes are in force")
}

func TestOperatorBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"teams", "explode"}, 2, "Cách dùng"},
		{"team without hamlets", []string{"team", "create", "--commune", "32248", "--name", "x"}, 1, "cần --commune, --name và --hamlets"},
		{"in English", []string{"team", "create", "--lang", "en"}, 1, "--commune, --name and --hamlets are required"},
		{"missing CSV file", []string{"units", "import", "--file", "/nonexistent/units.csv", "--format", "2022"}, 1, "Lỗi"},
		{"CSV of the wrong format", []string{"units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2025"}, 1, "Lỗi"},
		{"code for an unknown member", []string{"code", "issue", "--member", "00000000-0000-4000-8000-000000000000"}, 1, "Lỗi"},
		{"agent schema past this build", []string{"serve", "--min-agent-schema", "9", "--addr", "127.0.0.1:0"}, 1, "--min-agent-schema 9 không hợp lệ: bản máy chủ này đồng bộ được phiên bản dữ liệu 1 đến 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, dir, tc.args...)
			require.Equal(t, tc.code, code, errOut)
			require.Contains(t, errOut, tc.want)
			require.False(t, strings.Contains(errOut, "panic"))
		})
	}
}

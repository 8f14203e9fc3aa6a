package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// An operator's slip the store refuses (no such team, member, hamlet or
// commune; a malformed code) is told in the operator's language with what
// to do, not as the server's English error.
func TestOperatorSlipsAreToldInVietnamese(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--count", "2")
	require.Equal(t, 0, code, errOut)
	// A hamlet of another commune (by parent, since the merger moved
	// hamlets and kept their codes): it must exist to be another's.
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32244", "--count", "1")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := cli(t, dir, "team", "create", "--commune", "32248", "--name", "Tổ A", "--hamlets", "32248-01", "--json")
	require.Equal(t, 0, code, errOut)
	var team struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(out), &team))
	const nobody = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"team", "create", "--commune", "32248", "--name", "Tổ B", "--hamlets", "32248-09"},
			[]string{"không có ấp/khóm 32248-09", "hamlet-server unit add-hamlets --commune 32248"}, ""},
		{[]string{"team", "create", "--commune", "99999", "--name", "Tổ B", "--hamlets", "99999-01"},
			[]string{"không có xã/phường 99999", "hamlet-server unit list"}, "add-hamlets"},
		{[]string{"team", "create", "--commune", "3224", "--name", "Tổ B", "--hamlets", "3224-01"},
			[]string{"mã xã/phường \"3224\" không đúng", "5 chữ số"}, ""},
		{[]string{"team", "create", "--commune", "32248", "--name", "Tổ B", "--hamlets", "32248-1x"},
			[]string{"mã ấp/khóm \"32248-1x\" không đúng", "32248-01"}, ""},
		{[]string{"team", "create", "--commune", "32248", "--name", "Tổ B", "--hamlets", "32244-01"},
			[]string{"ấp/khóm 32244-01 không thuộc xã/phường 32248 (ấp/khóm này thuộc xã/phường 32244)"}, ""},
		{[]string{"team", "create", "--commune", "32248", "--name", "Tổ B", "--hamlets", "32248-01,32248-01"},
			[]string{"ấp/khóm 32248-01 được nêu hai lần"}, ""},
		{[]string{"team", "add-hamlet", "--team", nobody, "--hamlet", "32248-02"},
			[]string{"không có tổ " + nobody, "hamlet-server team list"}, ""},
		{[]string{"team", "remove-hamlet", "--team", nobody, "--hamlet", "32248-02"},
			[]string{"không có tổ " + nobody, "hamlet-server team list"}, ""},
		{[]string{"team", "add-hamlet", "--team", team.ID, "--hamlet", "32248-09"},
			[]string{"không có ấp/khóm 32248-09", "hamlet-server unit add-hamlets --commune 32248"}, ""},
		{[]string{"member", "add", "--team", nobody, "--name", "Nguyễn Thị Lan"},
			[]string{"không có tổ " + nobody, "hamlet-server team list"}, ""},
		{[]string{"member", "add", "--team", "tổ-3", "--name", "Nguyễn Thị Lan"},
			[]string{"không có tổ tổ-3", "hamlet-server team list"}, ""},
		{[]string{"code", "issue", nobody},
			[]string{"không có thành viên " + nobody, "hamlet-server code list"}, ""},
		{[]string{"code", "issue", "nope"},
			[]string{"không có thành viên nope"}, ""},
		{[]string{"device", "revoke", nobody},
			[]string{"không có thiết bị " + nobody, "hamlet-server device list"}, ""},
	} {
		code, _, errOut := cli(t, dir, tc.args...)
		require.Equal(t, 1, code, "%v: %s", tc.args, errOut)
		require.NotContains(t, errOut, "not found", "%v: the operator reads Vietnamese by default", tc.args)
		require.NotContains(t, errOut, "schema:", "%v", tc.args)
		for _, w := range tc.want {
			require.Contains(t, errOut, w, "%v", tc.args)
		}
		if tc.not != "" {
			require.NotContains(t, errOut, tc.not, "%v", tc.args)
		}
	}
	// The listing the messages send the operator to.
	code, out, errOut = cli(t, dir, "unit", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "32248")
	code, out, errOut = cli(t, dir, "unit", "list", "--commune", "32248")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "32248-02")
	code, _, errOut = cli(t, dir, "team", "add-hamlet", "--team", team.ID, "--hamlet", "32248-09", "--lang", "en")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "Error: no hamlet 32248-09 in commune 32248")
	code, _, errOut = cli(t, dir, "team", "create", "--commune", "99999", "--name", "B", "--hamlets", "99999-01", "--lang", "en")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "Error: no commune 99999")
}

// code issue --ttl=-1h issued a 72-hour code (Admin.IssueCode takes ttl <= 0
// as the default): a code's lifetime must be positive, and the command says
// so as a usage error, before any code exists.
func TestCodeIssueRefusesANonPositiveTTL(t *testing.T) {
	f := newDevicesFixture(t)
	codes := func() int {
		code, out, errOut := cli(t, f.dir, "code", "list", "--member", f.memberB, "--json")
		require.Equal(t, 0, code, errOut)
		var list []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		return len(list)
	}
	before := codes()
	for ttl, shown := range map[string]string{"-1h": "-1h0m0s", "0": "0s", "0s": "0s"} {
		code, out, errOut := cli(t, f.dir, "code", "issue", f.memberB, "--ttl="+ttl)
		require.Equal(t, 2, code, "--ttl=%s: %s%s", ttl, out, errOut)
		require.Empty(t, out, "--ttl=%s: no code is printed", ttl)
		require.Contains(t, errOut, "--ttl "+shown+" không hợp lệ: thời hạn của mã phải lớn hơn 0", ttl)
		require.Contains(t, errOut, "hamlet-server code issue --help")
	}
	code, _, errOut := cli(t, f.dir, "code", "issue", f.memberB, "--ttl", "-1h", "--lang", "en")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "Error: --ttl -1h0m0s is invalid: a code's lifetime must be more than 0")
	require.Equal(t, before, codes(), "no code was issued")
	code, out, errOut := cli(t, f.dir, "code", "issue", f.memberB, "--ttl", "30m")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Mã đăng ký:")
	require.Equal(t, before+1, codes())
}

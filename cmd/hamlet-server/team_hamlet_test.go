package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTeamAddRemoveHamlet(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--count", "4")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := cli(t, dir, "team", "create", "--commune", "32248", "--name", "Tổ 1", "--hamlets", "32248-01,32248-02", "--json")
	require.Equal(t, 0, code, errOut)
	var team struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(out), &team))

	code, out, errOut = cli(t, dir, "team", "add-hamlet", "--team", team.ID, "--hamlet", "32248-03")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Đã thêm ấp/khóm 32248-03")
	code, out, _ = cli(t, dir, "team", "add-hamlet", "--team", team.ID, "--hamlet", "32248-03", "--lang", "en")
	require.Equal(t, 0, code)
	require.Contains(t, out, "already covers hamlet 32248-03: nothing changed")
	code, out, errOut = cli(t, dir, "team", "remove-hamlet", "--team", team.ID, "--hamlet", "32248-01", "--json")
	require.Equal(t, 0, code, errOut)
	var res struct{ Changed bool }
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.True(t, res.Changed)

	code, out, _ = cli(t, dir, "team", "list", "--json")
	require.Equal(t, 0, code)
	var teams []struct{ Hamlets []string }
	require.NoError(t, json.Unmarshal([]byte(out), &teams))
	require.Len(t, teams, 1)
	require.Equal(t, []string{"32248-02", "32248-03"}, teams[0].Hamlets)

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"team", "add-hamlet", "--team", team.ID}, "cần --team và --hamlet"},
		{[]string{"team", "add-hamlet", "--team", team.ID, "--hamlet", "32248-09"}, "unit add-hamlets"},
		{[]string{"team", "remove-hamlet", "--team", "no-such-team", "--hamlet", "32248-02"}, "team list"},
	} {
		code, _, errOut = cli(t, dir, bad.args...)
		require.Equal(t, 1, code, "%v", bad.args)
		require.Contains(t, errOut, bad.want, "%v", bad.args)
	}
}

package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// An operator pasting names from a file or a keyboard set to "Unicode tổ
// hợp" types NFD; every text Hamlet stores is NFC (PROTOCOL.md, types).
func TestTeamAndMemberNamesAreStoredNFC(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--count", "2")
	require.Equal(t, 0, code, errOut)

	teamName := norm.NFD.String("Tổ CNSCĐ Ấp Đông")
	code, out, errOut := cli(t, dir, "team", "create", "--commune", "32248", "--name", teamName, "--hamlets", "32248-01", "--json")
	require.Equal(t, 0, code, errOut)
	var team struct{ ID, Name string }
	require.NoError(t, json.Unmarshal([]byte(out), &team))

	memberName := norm.NFD.String("Nguyễn Thị Hường")
	code, out, errOut = cli(t, dir, "member", "add", "--team", team.ID, "--name", memberName, "--json")
	require.Equal(t, 0, code, errOut)
	var member struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(out), &member))

	code, out, errOut = cli(t, dir, "team", "list", "--json")
	require.Equal(t, 0, code, errOut)
	var teams []struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(out), &teams))
	require.Len(t, teams, 1)

	require.Equal(t, "Tổ CNSCĐ Ấp Đông", teams[0].Name, "the team's name is stored NFC")
	require.Equal(t, "Nguyễn Thị Hường", member.Name, "the member's name is stored NFC")
}

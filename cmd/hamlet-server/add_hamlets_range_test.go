package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAddHamletsOutOfRangeIsAUsageError: hamlet numbers run 1 to 99 (a
// hamlet code is the commune's and two digits). Asking past that is the
// operator's slip, said in their language with the range, not the
// server's English.
func TestAddHamletsOutOfRangeIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025")
	require.Equal(t, 0, code, errOut)
	for _, args := range [][]string{
		{"unit", "add-hamlets", "--commune", "32248", "--count", "100"},
		{"unit", "add-hamlets", "--commune", "32248", "--from", "95", "--count", "10"},
		{"unit", "add-hamlets", "--commune", "32248", "--count", "-3"},
	} {
		code, _, errOut := cli(t, dir, args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
		require.Contains(t, errOut, "từ 1 đến 99", "%v", args)
		require.NotContains(t, errOut, "must lie", "%v: not the server's English", args)
	}
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--count", "100", "--lang", "en")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "from 1 to 99")
	code, _, errOut = cli(t, dir, "unit", "add-hamlets", "--commune", "32248", "--from", "90", "--count", "10")
	require.Equal(t, 0, code, "90..99 is allowed: %s", errOut)
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A units file Excel saved in Windows-1258 (Vietnamese letters as single
// bytes) was imported with garbled names on SQLite and failed PostgreSQL
// with its raw SQLSTATE (helper 131): it is refused on both, saying what to
// do, and nothing is imported.
func TestUnitsFileNotUTF8IsRefused(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(dataFile(t, "camau-2025.csv"))
	require.NoError(t, err)
	lines := strings.SplitAfter(string(src), "\n")
	require.True(t, strings.HasPrefix(lines[1], "Tân Thuận,"), lines[1])
	lines[1] = "T\xe2n Thu\xe2n" + strings.TrimPrefix(lines[1], "Tân Thuận") // â in Windows-1258
	file := filepath.Join(t.TempDir(), "units-1258.csv")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "")), 0o600))
	code, _, errOut := cli(t, dir, "units", "import", "--file", file, "--format", "2025")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "dòng 2, cột 1 (commune_name): tên không phải văn bản Unicode (UTF-8)", "the line to fix, in the operator's language")
	code, _, errOut = cli(t, dir, "units", "import", "--file", file, "--format", "2025", "--lang", "en")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "line 2, column 1 (commune_name): the name is not Unicode (UTF-8) text")
	code, out, errOut := cli(t, dir, "unit", "list")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "T\xe2n", "nothing imported")
}

// An argument that is not UTF-8 (a terminal in another encoding) reached
// PostgreSQL's text as it was: device revoke and code issue answered its
// raw SQLSTATE (helper 131). Every command refuses it first, as a usage
// error in the operator's language.
func TestArgumentNotUTF8IsAUsageError(t *testing.T) {
	dir := t.TempDir()
	requireNotUTF8Refused(t, dir)
}

// A path is the file system's: a UTF-8 units file saved under a name in a
// legacy encoding was refused as a non-UTF-8 argument (helper 133's
// review of 2ae7ee6).
func TestPathNotUTF8IsStillAPath(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(dataFile(t, "camau-2025.csv"))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "danh-m\xe1c.csv")
	require.NoError(t, os.WriteFile(file, src, 0o600))
	code, _, errOut := cli(t, dir, "units", "import", "--file", file, "--format", "2025")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, dir, "units", "import", "--file="+file, "--format", "2025")
	require.Equal(t, 0, code, errOut)
}

// An id or a name that is not UTF-8 was let through when a file of that
// name existed in the working folder (helper 139's review of 580f349).
func TestNameNotUTF8BesideAFileOfThatNameIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("m\xe1y", nil, 0o600))
	require.NoError(t, os.WriteFile("th\xe0nh-vi\xean", nil, 0o600))
	requireNotUTF8Refused(t, dir)
}

// requireNotUTF8Refused: an id and a name typed in another encoding are
// usage errors in the operator's language.
func requireNotUTF8Refused(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"device", "revoke", "m\xe1y"},
		{"code", "issue", "--member", "th\xe0nh-vi\xean"},
	} {
		code, _, errOut := cli(t, dir, args...)
		require.Equal(t, 2, code, "%q: %s", args, errOut)
		require.Contains(t, errOut, "không phải văn bản Unicode (UTF-8)", "%q", args)
	}
}

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A --data-dir that is a file, or inside one, got the message for an
// unexpected failure: "try again, and tell IT staff", with Go's "not a
// directory" as its only clue. Trying again cannot help; choosing another
// folder does.
func TestDataDirThatIsAFileSaysChooseAnother(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ho-dan.xlsx")
	require.NoError(t, os.WriteFile(file, []byte("not a folder"), 0o600))
	for _, dir := range []string{file, filepath.Join(file, "hamlet")} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := cli(t, dir, "status")
			require.Equal(t, exitError, r.code)
			require.Contains(t, r.stderr, "là một tệp, không phải thư mục")
			require.Contains(t, r.stderr, "--data-dir")
			require.NotContains(t, r.stderr, "thử lại")
			require.NotContains(t, r.stderr, "not a directory")
			t.Setenv("HAMLET_LANG", "en")
			r = cli(t, dir, "status")
			require.Contains(t, r.stderr, "is a file, not a folder")
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			require.Equal(t, "not a folder", string(data), "the file is left as it was")
		})
	}
}

// Helper 151: repair, which opens no replica through the data folder's
// making, still gave the generic message.
func TestRepairDataDirThatIsAFileSaysChooseAnother(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ho-dan.xlsx")
	require.NoError(t, os.WriteFile(file, []byte("not a folder"), 0o600))
	t.Setenv("HAMLET_LANG", "en")
	for _, dir := range []string{file, filepath.Join(file, "hamlet")} {
		r := cli(t, dir, "repair", "--offline")
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "is a file, not a folder", "dir %s", dir)
		require.NotContains(t, r.stderr, "try again")
	}
}

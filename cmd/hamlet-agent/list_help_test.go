package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestListHelpNamesTheCommand: "visit list --help" and a mistyped option
// of "tutor list" name the command the volunteer typed, not the table
// ("hamlet-agent visits list" / "tutoring_records list" do not exist),
// and say what the command does.
func TestListHelpNamesTheCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	for cmd, about := range map[string]string{"visit": "liệt kê các lượt thăm hộ", "tutor": "liệt kê các lượt hướng dẫn", "report": "liệt kê các phản ánh"} {
		r := cli(t, dir, cmd, "list", "--help")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Contains(t, r.stdout, "hamlet-agent "+cmd+" list [", cmd)
		require.Contains(t, r.stdout, about, cmd)

		r = cli(t, dir, cmd, "list", "--bogus")
		require.Equal(t, exitUsage, r.code)
		require.Contains(t, r.stderr, "hamlet-agent "+cmd+" list --help", cmd)
	}
}

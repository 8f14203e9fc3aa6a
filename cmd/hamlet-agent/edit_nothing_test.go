package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHouseholdEditWithNothingToChange: "household edit ID" with no
// option queues nothing, so it must not say "Đã lưu… sẽ gửi khi đồng
// bộ": it says nothing was changed and how to give the changes.
func TestHouseholdEditWithNothingToChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn Đức")
	pending := func() int {
		r := cli(t, dir, "status", "--json")
		var s struct{ Pending int }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
		return s.Pending
	}
	before := pending()
	r := cli(t, dir, "household", "edit", id)
	require.Equal(t, exitUsage, r.code, r.stdout)
	require.NotContains(t, r.stdout+r.stderr, "Đã lưu")
	require.Contains(t, r.stderr, "Chưa có gì thay đổi")
	require.Contains(t, r.stderr, "hamlet-agent household edit "+id+" --phone")
	require.Equal(t, before, pending())

	r = cli(t, dir, "household", "edit", id, "--lang", "en")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "Nothing was changed")
}

package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSetAndOptionDisagree: "tutor add --set skill=X --skill Y" kept one
// of the two silently. A field given both by its option and by --set is
// refused when the two differ (nothing saved), and taken when they agree.
func TestSetAndOptionDisagree(t *testing.T) {
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
	for _, args := range [][]string{
		{"tutor", "add", "--household", id, "--set", "skill=vneid_install", "--skill", "cashless_payment"},
		{"tutor", "add", "--household", id, "--skill", "cashless_payment", "--set", "skill=vneid_install"},
		{"visit", "add", "--household", id, "--date", "2026-11-01", "--set", "visited_on=2026-11-02"},
	} {
		r := cli(t, dir, args...)
		require.Equal(t, exitUsage, r.code, "%q saved: %s", args, r.stdout)
		require.Contains(t, r.stderr, "--set", "%q", args)
		require.Equal(t, before, pending(), "%q", args)
	}
	r := cli(t, dir, "tutor", "add", "--household", id, "--skill", "vneid_install", "--set", "skill=vneid_install", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"skill": "vneid_install"`)
	r = cli(t, dir, "tutor", "add", "--household", id, "--set", "skill=vneid_install", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"skill": "vneid_install"`)
}

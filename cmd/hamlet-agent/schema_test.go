package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCLITooOldSchema: the CLI of an agent at schema 1 against a server that
// needs schema 2 prints which schema to install and where, in the
// volunteer's language, not a generic failure.
func TestCLITooOldSchema(t *testing.T) {
	const update = "https://hamlet.camau.gov.vn/tai-ve"
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.MinAgentSchema, c.AgentUpdate = 2, update }))
	v1, err := schema.At(1)
	require.NoError(t, err)
	openOptions = agent.Options{Schema: v1}
	t.Cleanup(func() { openOptions = agent.Options{} })

	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--label", "máy thử")
	require.Equal(t, 0, r.code, r.stderr)

	r = cli(t, dir, "status")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `Phiên bản dữ liệu:\s+1\n`, r.stdout)

	r = cli(t, dir, "sync")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "hamlet-agent dùng phiên bản dữ liệu 1, máy chủ cần từ 2 trở lên")
	require.Contains(t, r.stderr, "tải tại: "+update)
	r = cli(t, dir, "sync", "--lang", "en")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "hamlet-agent has data schema 1, the server needs 2 or later")
	require.Contains(t, r.stderr, update)
}

// TestCLICaMauG: the schema 2 flag is set and shown like the other flags.
func TestCLICaMauG(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Thị Hoa")
	r := cli(t, dir, "household", "edit", id, "--camau-g", "có")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "household", "show", id, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var d struct{ Fields map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &d))
	require.Equal(t, true, d.Fields["uses_camau_g"])
	r = cli(t, dir, "household", "show", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Dùng ứng dụng CaMau-G")
}

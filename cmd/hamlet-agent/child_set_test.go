package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// TestChildSetKeepsTheHousehold: --set on visit/tutor/report add cannot
// quietly file the record under another hamlet, another household or
// another volunteer than --household and the enrollment say: it is
// refused with a message, and nothing is saved.
func TestChildSetKeepsTheHousehold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := &env{dataDir: dir}
	r, err := e.open(context.Background())
	require.NoError(t, err)
	require.NoError(t, r.SetEnrollment(context.Background(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), TeamName: "Tổ 1",
		Scope: []agent.Hamlet{{Code: "32002-01", Name: "Ấp Tân Thành"}, {Code: "32002-02", Name: "Ấp Tân Lập"}}}))
	require.NoError(t, r.Close())
	a := addHH(t, dir, "Nguyễn Văn Đức") // in 32002-01
	b := addHH(t, dir, "Trần Thị Hoa")
	pending := func() int {
		r := cli(t, dir, "status", "--json")
		var s struct{ Pending int }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
		return s.Pending
	}
	before := pending()
	for _, args := range [][]string{
		{"visit", "add", "--household", a, "--set", "hamlet_code=32002-02"},
		{"visit", "add", "--household", a, "--set", "household_id=" + b},
		{"visit", "add", "--household", a, "--set", "volunteer_id=" + uuid.NewString()},
		{"report", "add", "--household", a, "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--set", "hamlet_code=32002-02"},
	} {
		r := cli(t, dir, args...)
		require.Equal(t, exitError, r.code, "%q saved: %s", args, r.stdout)
		require.Equal(t, before, pending(), "%q", args)
	}
}

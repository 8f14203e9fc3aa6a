package main

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A place report (no --household) can still be filed under another
// volunteer with --set volunteer_id=..., which 497cebc refuses for
// visit/tutor and household reports.
func TestPlaceReportKeepsTheVolunteer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	other := uuid.NewString()
	r := cli(t, dir, "report", "add", "--hamlet", "32002-01", "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--set", "volunteer_id="+other, "--json")
	require.Equal(t, exitError, r.code, "saved under another volunteer: %s", r.stdout)
	require.Contains(t, r.stderr, "người đã đăng ký máy này", "a place report has no household to speak of")
	require.NotContains(t, r.stderr, "hộ đã chọn")
}

// report add --household H --hamlet OTHER is refused (good) but the
// message tells the volunteer to drop "--set hamlet_code=...", an option
// they never typed.
func TestReportHamletFlagMessage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := &env{dataDir: dir}
	rr, err := e.open(context.Background())
	require.NoError(t, err)
	require.NoError(t, rr.SetEnrollment(context.Background(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), TeamName: "Tổ 1",
		Scope: []agent.Hamlet{{Code: "32002-01", Name: "Ấp Tân Thành"}, {Code: "32002-02", Name: "Ấp Tân Lập"}}}))
	require.NoError(t, rr.Close())
	a := addHH(t, dir, "Nguyễn Văn Đức")
	r := cli(t, dir, "report", "add", "--household", a, "--hamlet", "32002-02", "--category", "dien_chieu_sang", "--description", "Đèn hỏng")
	require.Equal(t, exitError, r.code)
	require.NotContains(t, r.stderr, "--set hamlet_code", "message names an option not typed: %s", r.stderr)
}

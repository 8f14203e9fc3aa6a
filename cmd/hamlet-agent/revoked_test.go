package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The volunteer's side of a revocation, as typed: sync says what happened
// and what to do, Vietnamese first, and that the records are kept;
// enrolling again with a new code keeps them and the next sync sends them.
func TestCLIRevokedThenEnrolledAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	dir := t.TempDir()
	m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Nguyễn Thị Lan", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", code)
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stdout, "Đã đăng ký lại")
	r = cli(t, dir, "household", "add", "--hamlet", ts.HamletsA[0], "--head", "Phạm Văn Dũng")
	require.Equal(t, 0, r.code, r.stderr)

	devs, err := ts.Admin.ListDevices(ctx)
	require.NoError(t, err)
	require.NoError(t, ts.Admin.RevokeDevice(ctx, devs[0].ID))
	r = cli(t, dir, "sync")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "Quyền đồng bộ của máy này đã bị thu hồi")
	require.Contains(t, r.stderr, "1 bản ghi có thay đổi chưa gửi")
	require.Contains(t, r.stderr, "xin cán bộ CNTT một mã đăng ký mới")
	require.Contains(t, r.stderr, "hamlet-agent enroll --server "+ts.URL+" --code")
	r = cli(t, dir, "sync", "--lang", "en")
	require.Contains(t, r.stderr, "Nothing is lost")
	r = cli(t, dir, "sync", "--watch")
	require.Equal(t, exitError, r.code, "watch stops: nothing changes without a person")
	require.NotContains(t, r.stderr, "sẽ thử lại", "no promise of a retry")
	require.Contains(t, r.stderr, "Quyền đồng bộ của máy này đã bị thu hồi")

	r = cli(t, dir, "status")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Quyền đồng bộ:")
	require.Contains(t, r.stdout, "xin cán bộ CNTT mã đăng ký mới rồi chạy hamlet-agent enroll")

	code, _, err = ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	r = cli(t, dir, "enroll", "--server", ts.URL, "--code", code)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Đã đăng ký lại máy này; dữ liệu trên máy giữ nguyên")
	r = cli(t, dir, "status")
	require.NotContains(t, r.stdout, "Quyền đồng bộ:", "enrolled again, before any sync: no longer revoked")
	r = cli(t, dir, "sync")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Đồng bộ xong")
	r = cli(t, dir, "status", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"pending": 0`)
}

// A server that no longer knows this laptop (its data was wiped, or it was
// reinstalled: `make run` used to do that) says so, not "this laptop is not
// enrolled", and keeps the laptop's records. Vietnamese first, English
// under --lang en.
func TestCLIServerNoLongerKnowsThisLaptop(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "household", "add", "--hamlet", ts.HamletsA[0], "--head", "Phạm Văn Dũng")
	require.Equal(t, 0, r.code, r.stderr)

	fresh := servertest.Start(t) // the same deployment's address, its data gone
	r = cli(t, dir, "sync", "--server", fresh.URL)
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "Máy chủ không còn biết máy này nữa: hãy xin mã đăng ký mới")
	require.Contains(t, r.stderr, "1 bản ghi có thay đổi chưa gửi")
	require.NotContains(t, r.stderr, "chưa được đăng ký")
	require.Equal(t, 1, strings.Count(r.stderr, "Lỗi"), "one error, said once: %q", r.stderr)
	r = cli(t, dir, "sync", "--server", fresh.URL, "--lang", "en")
	require.Contains(t, r.stderr, "The server does not know this laptop any more: ask for a new code")
	r = cli(t, dir, "sync", "--server", fresh.URL, "--watch")
	require.Equal(t, exitError, r.code, "watch stops: nothing changes without a person")
	require.NotContains(t, r.stderr, "sẽ thử lại", "no promise of a retry")
	require.Contains(t, r.stderr, "Máy chủ không còn biết máy này nữa")
	r = cli(t, dir, "status")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "máy chủ không còn biết máy này nữa; xin cán bộ CNTT mã đăng ký mới")

	// The records are still there to send.
	r = cli(t, dir, "sync")
	require.Equal(t, 0, r.code, r.stderr)
}

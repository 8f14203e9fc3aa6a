package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// devicesFixture: a data directory with servertest's two teams,
// a member in each, one device enrolled over HTTP in team A, and an unused
// code in team B. The server is closed before the CLI runs, as an operator
// would run hamlet-server beside (or without) the serving process.
type devicesFixture struct {
	dir               string
	teamA, teamB      string
	memberA, memberB  string
	deviceA, replicaA string
}

func newDevicesFixture(t *testing.T) devicesFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ts2 := servertest.Start(t, servertest.WithDataDir(dir))
	mA, err := ts2.Admin.AddMember(ctx, ts2.TeamA, "Nguyễn Thị Lan", "member", "")
	require.NoError(t, err)
	mB, err := ts2.Admin.AddMember(ctx, ts2.TeamB, "Trần Văn Tư", "member", "")
	require.NoError(t, err)
	code, _, err := ts2.Admin.IssueCode(ctx, mA.ID, time.Hour)
	require.NoError(t, err)
	replica := uuid.New()
	er, status, eb, err := servertest.Enroll(ctx, ts2.URL, code, replica, "máy của Lan")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	_, _, err = ts2.Admin.IssueCode(ctx, mB.ID, time.Hour)
	require.NoError(t, err)
	ts2.Close()
	return devicesFixture{dir: dir, teamA: ts2.TeamA, teamB: ts2.TeamB, memberA: mA.ID, memberB: mB.ID, deviceA: er.DeviceID, replicaA: replica.String()}
}

func TestDeviceAndCodeListings(t *testing.T) {
	f := newDevicesFixture(t)

	code, out, errOut := cli(t, f.dir, "code", "list", "--team", f.teamA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "CẤP LÚC", "Vietnamese headers by default")
	require.Contains(t, out, "đã dùng")
	require.Contains(t, out, f.deviceA, "which device used the code")
	require.NotContains(t, out, f.memberB)

	code, out, errOut = cli(t, f.dir, "code", "list", "--member", f.memberB, "--lang", "en")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "CREATED")
	require.Contains(t, out, "unused")
	require.NotContains(t, out, f.deviceA)

	code, out, errOut = cli(t, f.dir, "code", "list", "--json")
	require.Equal(t, 0, code, errOut)
	var codes []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &codes))
	require.Len(t, codes, 2)
	for _, c := range codes {
		require.NotContains(t, c, "code", "a code is stored hashed and never listed")
		require.NotContains(t, c, "hash")
	}

	code, out, errOut = cli(t, f.dir, "device", "list", "--member", f.memberA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "MÃ TRUY CẬP")
	require.Contains(t, out, "hoạt động")
	require.Contains(t, out, f.replicaA[:8], "the replica id prefix")
	code, out, _ = cli(t, f.dir, "device", "list", "--team", f.teamB)
	require.Equal(t, 0, code)
	require.NotContains(t, out, f.deviceA)

	// Revoke, then restore: the listing follows.
	code, out, errOut = cli(t, f.dir, "device", "revoke", "--device", f.deviceA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "hamlet-server device restore "+f.deviceA)
	code, out, _ = cli(t, f.dir, "device", "list", "--team", f.teamA, "--lang", "en")
	require.Equal(t, 0, code)
	require.Contains(t, out, "revoked")
	require.Contains(t, out, "REVOKED AT")
	code, out, errOut = cli(t, f.dir, "device", "restore", f.deviceA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Đã khôi phục")
	code, out, _ = cli(t, f.dir, "device", "list", "--team", f.teamA, "--json")
	require.Equal(t, 0, code)
	var devs []server.Device
	require.NoError(t, json.Unmarshal([]byte(out), &devs))
	require.Len(t, devs, 1)
	require.Nil(t, devs[0].Revoked)
}

func TestDeviceCommandsBadInput(t *testing.T) {
	f := newDevicesFixture(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"restore an unknown device", []string{"device", "restore", "no-such-device"}, "không có thiết bị no-such-device; xem mã các thiết bị: hamlet-server device list"},
		{"restore an unknown device, English", []string{"device", "restore", "--device", "no-such-device", "--lang", "en"}, "no device no-such-device"},
		{"restore a device that is not revoked", []string{"device", "restore", f.deviceA}, "chưa bị thu hồi nên không cần khôi phục"},
		{"restore without an id", []string{"device", "restore"}, "cần một mã thiết bị"},
		{"revoke an unknown device", []string{"device", "revoke", "--device", "no-such-device"}, "không có thiết bị no-such-device"},
		{"list codes of an unknown team", []string{"code", "list", "--team", "no-such-team"}, "không có tổ no-such-team"},
		{"list devices of an unknown member", []string{"device", "list", "--member", "no-such-member"}, "không có thành viên no-such-member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, f.dir, tc.args...)
			want := 1
			if tc.name == "restore without an id" {
				want = 2 // a usage error, as any missing argument
			}
			require.Equal(t, want, code, errOut)
			require.Contains(t, errOut, tc.want)
			require.False(t, strings.Contains(errOut, "panic"))
		})
	}

	// The replica enrolled again on another device: restoring the old one
	// is refused and says which device to revoke first.
	ctx := context.Background()
	require.Equal(t, 0, first(cli(t, f.dir, "device", "revoke", "--device", f.deviceA)))
	ts := servertest.Start(t, servertest.WithDataDir(f.dir))
	code, _, err := ts.Admin.IssueCode(ctx, f.memberA, time.Hour)
	require.NoError(t, err)
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, uuid.MustParse(f.replicaA), "máy của Lan")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	ts.Close()
	rc, _, errOut := cli(t, f.dir, "device", "restore", f.deviceA)
	require.Equal(t, 1, rc)
	require.Contains(t, errOut, "đang hoạt động trên thiết bị "+er.DeviceID)
	require.Contains(t, errOut, "hamlet-server device revoke "+er.DeviceID)
	require.Equal(t, 0, first(cli(t, f.dir, "device", "revoke", "--device", er.DeviceID)))
	rc, _, errOut = cli(t, f.dir, "device", "restore", f.deviceA)
	require.Equal(t, 1, rc)
	require.Contains(t, errOut, "đã được thay bằng thiết bị "+er.DeviceID)
	require.Contains(t, errOut, "hamlet-server device restore "+er.DeviceID)
	require.Equal(t, 0, first(cli(t, f.dir, "device", "restore", er.DeviceID)))
	rc, out, _ := cli(t, f.dir, "device", "list", "--member", f.memberA)
	require.Equal(t, 0, rc)

	require.Contains(t, out, "THAY CHO")
	require.Contains(t, out, f.deviceA[:8], "the new device names the one it replaced")
}

func first(code int, _, _ string) int { return code }

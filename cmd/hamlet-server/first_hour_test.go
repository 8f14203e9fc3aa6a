package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
)

// Issue 21: what a new operator trips over, through run() as the binary
// runs it.

// cliArgs runs hamlet-server with args exactly as given (no --data-dir
// added), with HAMLET_DATA_DIR pointing at dir.
func cliArgs(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HAMLET_DATA_DIR", dir)
	var out, errOut strings.Builder
	code := run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Item 3: every command that names one thing takes it positionally, as
// README writes it, and by its flag as before.
func TestOneThingPositionallyOrByFlag(t *testing.T) {
	f := newDevicesFixture(t)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("mat-khau-dai-du-12\n"), 0o600))
	code, _, errOut := cli(t, f.dir, "user", "add", "--username", "lan", "--name", "Nguyễn Thị Lan", "--role", "provincial", "--unit", "96", "--password-file", pw)
	require.Equal(t, 0, code, errOut)
	units := dataFile(t, "camau-2025.csv")
	steps := []struct {
		name string
		args []string
		want string
	}{
		{"device revoke ID", []string{"device", "revoke", f.deviceA}, "Đã thu hồi thiết bị " + f.deviceA},
		{"device restore ID", []string{"device", "restore", f.deviceA}, "Đã khôi phục thiết bị " + f.deviceA},
		{"device revoke --device ID", []string{"device", "revoke", "--device", f.deviceA}, "Đã thu hồi thiết bị " + f.deviceA},
		{"device restore --device ID", []string{"device", "restore", "--device", f.deviceA}, "Đã khôi phục thiết bị " + f.deviceA},
		{"flags before the id", []string{"device", "revoke", "--lang", "en", f.deviceA}, "Revoked device " + f.deviceA},
		{"device restore ID --json", []string{"device", "restore", f.deviceA, "--json"}, `"id": "` + f.deviceA},
		{"code issue MEMBER", []string{"code", "issue", f.memberB}, "Mã đăng ký:"},
		{"code issue --member MEMBER", []string{"code", "issue", "--member", f.memberB}, "Mã đăng ký:"},
		{"user rebind NAME", []string{"user", "rebind", "lan"}, "Đã xác nhận: tài khoản lan"},
		{"user rebind --username NAME", []string{"user", "rebind", "--username", "lan"}, "Đã xác nhận: tài khoản lan"},
		{"user disable NAME", []string{"user", "disable", "lan"}, "Đã khóa tài khoản lan"},
		{"user disable --username NAME", []string{"user", "disable", "--username", "lan"}, "Đã khóa tài khoản lan"},
		{"units import FILE", []string{"units", "import", units, "--format", "2025"}, "Đã nạp"},
		{"units import --file FILE", []string{"units", "import", "--file", units, "--format", "2025"}, "Đã nạp"},
	}
	for _, s := range steps {
		code, out, errOut := cli(t, f.dir, s.args...)
		require.Equal(t, 0, code, "%s: %s", s.name, errOut)
		require.Contains(t, out, s.want, s.name)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"device", "revoke"}, "hamlet-server device revoke MÃ_THIẾT_BỊ"},
		{[]string{"device", "revoke", "a", "b"}, "một mã thiết bị"},
		{[]string{"device", "revoke", "a", "--device", "b"}, "một mã thiết bị"},
		{[]string{"user", "disable"}, "hamlet-server user disable TÊN_ĐĂNG_NHẬP"},
	} {
		code, _, errOut := cli(t, f.dir, bad.args...)
		require.NotEqual(t, 0, code, "%v", bad.args)
		require.Contains(t, errOut, bad.want, "%v", bad.args)
	}
}

var vnTime = regexp.MustCompile(`\d{2}/\d{2}/\d{4} \d{2}:\d{2}`)

// Item 4: every time shown is in Vietnam's time, with the zone.
func TestTimesInVietnamTime(t *testing.T) {
	f := newDevicesFixture(t)
	code, out, errOut := cli(t, f.dir, "code", "issue", f.memberB, "--json")
	require.Equal(t, 0, code, errOut)
	var issued struct{ Expires time.Time }
	require.NoError(t, json.Unmarshal([]byte(out), &issued))
	_, out, _ = cli(t, f.dir, "code", "issue", f.memberB, "--ttl", "2h")
	want := issued.Expires.Add(-server.DefaultCodeTTL + 2*time.Hour).In(i18n.Zone)
	require.Regexp(t, `hết hạn `+vnTime.String()+` \(UTC\+7\)`, out)
	got := vnTime.FindString(out)
	at, err := time.ParseInLocation("02/01/2006 15:04", got, i18n.Zone)
	require.NoError(t, err)
	require.WithinDuration(t, want, at, 2*time.Minute, "the expiry in Vietnam's time: %s", out)
	_, out, _ = cli(t, f.dir, "code", "issue", f.memberB, "--lang", "en")
	require.Regexp(t, `expires \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+7\)`, out)

	require.Equal(t, 0, first(cli(t, f.dir, "device", "revoke", f.deviceA)))
	for _, args := range [][]string{{"code", "list"}, {"device", "list"}} {
		_, out, _ = cli(t, f.dir, args...)
		require.Contains(t, out, "(UTC+7)", "%v names the zone:\n%s", args, out)
		require.Regexp(t, vnTime, out)
		require.NotRegexp(t, `\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`, out, "%v", args)
	}
}

// englishFraming is Go's flag package talking.
var englishFraming = regexp.MustCompile(`Usage of|\(default "|flag provided|Unknown command`)

// Item 5: help at every level, common options in any position, one
// language, HAMLET_LANG too.
func TestServerHelpEverywhere(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HAMLET_LANG", "")
	tests := []struct {
		name string
		env  string
		args []string
		want []string
		en   bool
	}{
		{"top", "", []string{"--help"}, []string{"Cách dùng: hamlet-server", "team list"}, false},
		{"help word", "", []string{"help"}, []string{"Cách dùng: hamlet-server"}, false},
		{"lang before help", "", []string{"--lang", "en", "--help"}, []string{"Usage: hamlet-server", "team list"}, true},
		{"group", "", []string{"team", "--help"}, []string{"hamlet-server team create", "hamlet-server team list", "hamlet-server team add-hamlet"}, false},
		{"group without a command", "", []string{"help", "device"}, []string{"device revoke", "device restore"}, false},
		{"leaf vi", "", []string{"code", "issue", "--help"}, []string{"Cách dùng: hamlet-server code issue", "--ttl", "(mặc định: 72h)"}, false},
		{"leaf en", "", []string{"--lang", "en", "device", "revoke", "-h"}, []string{"Usage: hamlet-server device revoke", "--device"}, true},
		{"HAMLET_LANG=en", "en", []string{"user", "add", "--help"}, []string{"Usage: hamlet-server user add", "--password-file"}, true},
		{"help device revoke", "", []string{"help", "device", "revoke"}, []string{"Cách dùng: hamlet-server device revoke MÃ_THIẾT_BỊ"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HAMLET_LANG", tt.env)
			code, out, errOut := cliArgs(t, dir, tt.args...)
			all := out + errOut
			require.Equal(t, 0, code, all)
			for _, w := range tt.want {
				require.Contains(t, all, w)
			}
			require.NotRegexp(t, englishFraming, all)
			if tt.en { // proper names aside
				require.False(t, i18n.HasVietnamese(strings.ReplaceAll(all, "Cà Mau", "")), "English help holds Vietnamese:\n%s", all)
			} else {
				require.NotContains(t, all, "Usage")
				require.NotContains(t, all, "default")
			}
		})
	}
	t.Setenv("HAMLET_LANG", "")
	// Common options before the command.
	code, out, errOut := cliArgs(t, dir, "--lang", "en", "team", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "TEAM ID")
	t.Setenv("HAMLET_LANG", "en")
	code, out, errOut = cliArgs(t, dir, "team", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "TEAM ID")
	t.Setenv("HAMLET_LANG", "")
	// A wrong option, in the operator's language.
	code, _, errOut = cliArgs(t, dir, "team", "list", "--bogus")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "không có tùy chọn --bogus")
	require.Contains(t, errOut, "hamlet-server team list --help")
	require.NotRegexp(t, englishFraming, errOut)
	code, _, errOut = cliArgs(t, dir, "code", "issue", "x", "--ttl", "mai")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "cần một khoảng thời gian")
}

// Items 8, 9, 10, 21, 22: enum errors list the values, labels instead of
// raw values, Vietnamese order, official terms, no English causes.
func TestOperatorWording(t *testing.T) {
	f := newDevicesFixture(t)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("mat-khau-dai-du-12\n"), 0o600))
	for _, u := range []struct{ user, name string }{{"nguyen", "Nguyễn Văn An"}, {"dothi", "Đỗ Thị Bình"}, {"ngobao", "Ngô Bảo Châu"}, {"duong", "Dương Chí"}} {
		code, _, errOut := cli(t, f.dir, "user", "add", "--username", u.user, "--name", u.name, "--role", "provincial", "--unit", "96", "--password-file", pw)
		require.Equal(t, 0, code, errOut)
	}
	_, out, _ := cli(t, f.dir, "user", "list")
	assertOrder(t, out, "Dương Chí", "Đỗ Thị Bình", "Ngô Bảo Châu", "Nguyễn Văn An")
	require.Contains(t, out, "Cán bộ tỉnh")
	require.NotContains(t, out, "provincial")

	for _, team := range []string{"Tổ CNSCĐ Ấp Đông", "Tổ CNSCĐ Ấp Dừa"} {
		code, _, errOut := cli(t, f.dir, "team", "create", "--commune", "32002", "--name", team, "--hamlets", "32002-03")
		require.Equal(t, 0, code, errOut)
	}
	_, out, _ = cli(t, f.dir, "team", "list")
	assertOrder(t, out, "Tổ CNSCĐ Ấp Dừa", "Tổ CNSCĐ Ấp Đông")

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"member role", []string{"member", "add", "--team", f.teamA, "--name", "X", "--role", "boss"}, []string{"leader (Tổ trưởng)", "member (Thành viên)"}},
		{"user role", []string{"user", "add", "--username", "x", "--name", "X", "--role", "boss", "--unit", "96", "--password-file", pw}, []string{"provincial (Cán bộ tỉnh)", "operator (Cán bộ CNTT)"}},
		{"units format", []string{"units", "import", "--file", "x.csv", "--format", "2023"}, []string{"2022", "2025"}},
		{"demo province", []string{"demo", "--province", "big", "--addr", "127.0.0.1:0"}, []string{"seed2023", "small", "full", "none"}},
		{"missing file", []string{"units", "import", "/nonexistent/units.csv"}, []string{"không mở được tệp /nonexistent/units.csv", "không có tệp hoặc thư mục này"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, f.dir, tc.args...)
			require.NotEqual(t, 0, code)
			for _, w := range tc.want {
				require.Contains(t, errOut, w)
			}
			require.NotContains(t, errOut, "no such file")
			require.Empty(t, i18n.Find(errOut), errOut)
		})
	}
}

func assertOrder(t *testing.T, out string, names ...string) {
	t.Helper()
	last := -1
	for _, n := range names {
		i := strings.Index(out, n)
		require.Greater(t, i, last, "%s out of Vietnamese order:\n%s", n, out)
		last = i
	}
}

// Item 2: the demo loads any of the example's scales; the seed's 2023
// figures are there to see, and the demo team still enrolls and syncs.
// (small is make run's default: TestReadmeVolunteerCommands; full takes
// minutes, README says how long.)
func TestDemoLoadsTheSeedProvince(t *testing.T) {
	serverBin, agentBin := binaries(t)
	d := startDemo(t, serverBin, processEnv("HAMLET_LOG_LEVEL=error"), "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--province", "seed2023")
	defer d.stop(t)
	out := d.output()
	require.Contains(t, out, "Tỉnh mẫu (seed2023): 343 tổ, 1.610 thành viên,")
	require.Contains(t, out, "142 phản ánh")
	require.Contains(t, out, "from=2022-07-01&to=2022-07-31", "the example query asks for the sample's period")
	laptop := t.TempDir()
	code, stdout, errOut := agentRun(t, agentBin, laptop, "enroll", "--server", d.url, "--code", d.code)
	require.Equal(t, 0, code, stdout+errOut)
	code, stdout, errOut = agentRun(t, agentBin, laptop, "sync")
	require.Equal(t, 0, code, stdout+errOut)
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Issue 21: what a volunteer trips over in the first hour, each through
// run() as the binary runs it.

// cliNoDir runs hamlet-agent without adding --data-dir (the test puts
// options where a person would).
func cliNoDir(t testing.TB, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// englishFraming is Go's flag package talking: never in front of a volunteer.
var englishFraming = regexp.MustCompile(`Usage of|\(default |flag provided|-h, --help|Unknown command`)

// Item 5: help at every level, common options anywhere, one language.
func TestHelpEverywhere(t *testing.T) {
	t.Setenv("HAMLET_LANG", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "")
	dir := t.TempDir()
	tests := []struct {
		name string
		env  string // HAMLET_LANG
		args []string
		want []string
		lang string
	}{
		{"group help", "", []string{"household", "--help"}, []string{"Cách dùng: hamlet-agent household", "add", "edit", "search"}, "vi"},
		{"group help word", "", []string{"help", "household"}, []string{"Cách dùng: hamlet-agent household", "restore"}, "vi"},
		{"lang before help", "", []string{"--lang", "en", "--help"}, []string{"Usage: hamlet-agent", "household"}, "en"},
		{"lang= before command", "", []string{"--lang=en", "household", "add", "--help"}, []string{"Usage: hamlet-agent household add", "--head"}, "en"},
		{"subcommand help vi", "", []string{"enroll", "--help"}, []string{"Cách dùng: hamlet-agent enroll", "--code", "(mặc định:"}, "vi"},
		{"subcommand help en", "", []string{"tutor", "add", "-h", "--lang", "en"}, []string{"Usage: hamlet-agent tutor add", "--outcome"}, "en"},
		{"HAMLET_LANG=en", "en", []string{"report", "add", "--help"}, []string{"Usage: hamlet-agent report add", "--occurred-at"}, "en"},
		{"HAMLET_LANG=en group", "en", []string{"visit", "--help"}, []string{"Usage: hamlet-agent visit", "add"}, "en"},
		{"help for a leaf", "", []string{"help", "conflicts"}, []string{"Cách dùng: hamlet-agent conflicts", "--all"}, "vi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HAMLET_LANG", tt.env)
			r := cliNoDir(t, append(tt.args, "--data-dir", dir)...)
			out := r.stdout + r.stderr
			require.Equal(t, exitOK, r.code, out)
			for _, w := range tt.want {
				require.Contains(t, out, w)
			}
			require.NotRegexp(t, englishFraming, out)
			if tt.lang == "en" {
				require.False(t, i18n.HasVietnamese(out), "English help holds Vietnamese:\n%s", out)
			} else {
				require.NotContains(t, out, "Usage")
			}
		})
	}
	// Common options in front of the command.
	enrollLocally(t, dir)
	r := cliNoDir(t, "--data-dir", dir, "--json", "--lang", "en", "status")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.True(t, json.Valid([]byte(r.stdout)), r.stdout)
	// A wrong option is told in the volunteer's language, with where to look.
	r = cliNoDir(t, "household", "list", "--bogus", "--data-dir", dir)
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "không có tùy chọn --bogus")
	require.Contains(t, r.stderr, "hamlet-agent household list --help")
	require.NotRegexp(t, englishFraming, r.stderr)
}

// Item 6: an unknown field is the volunteer's typo, not the server's.
func TestUnknownFieldListsTheFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Trần Thị Hoa")
	r := cli(t, dir, "household", "edit", id, "--set", "foo=bar")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, `"foo"`)
	require.Contains(t, r.stderr, "head_name (tên chủ hộ)")
	require.Contains(t, r.stderr, "uses_cashless (thanh toán không dùng tiền mặt)")
	require.NotContains(t, r.stderr, "máy chủ")
	r = cli(t, dir, "household", "edit", id, "--set", "foo=bar", "--lang", "en")
	require.Contains(t, r.stderr, "head_name (head of household's name)")
	require.NotContains(t, r.stderr, "server")
}

// Item 7: dates and times as people write them, in Vietnam time.
func TestDatesAsPeopleWriteThem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Lê Văn Tám")
	show := func(table, out string) map[string]any {
		var rec struct{ ID string }
		require.NoError(t, json.Unmarshal([]byte(out), &rec), out)
		r := cli(t, dir, "household", "show", id, "--json")
		require.Equal(t, 0, r.code)
		var d struct {
			Visits, Reports []struct {
				ID     string
				Fields map[string]any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &d))
		for _, v := range append(d.Visits, d.Reports...) {
			if v.ID == rec.ID {
				return v.Fields
			}
		}
		t.Fatalf("%s %s not found", table, rec.ID)
		return nil
	}
	r := cli(t, dir, "report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--occurred-at", "01/11/2026 14:30", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	want := time.Date(2026, 11, 1, 14, 30, 0, 0, i18n.Zone).UnixMilli()
	require.EqualValues(t, want, show("report", r.stdout)["occurred_at"])

	for _, d := range []string{"01/11/2026", "1/11/2026", "2026-11-01"} {
		r = cli(t, dir, "visit", "add", "--household", id, "--date", d, "--json")
		require.Equal(t, 0, r.code, "%s: %s", d, r.stderr)
		require.Equal(t, "2026-11-01", show("visit", r.stdout)["visited_on"], d)
	}
	r = cli(t, dir, "household", "edit", id, "--registered-on", "15/07/2025")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, "report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--occurred-at", "hôm qua")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "01/12/2026 14:30")
	require.Contains(t, r.stderr, "giờ Việt Nam")
	r = cli(t, dir, "visit", "add", "--household", id, "--date", "2026/13/01", "--lang", "en")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "01/12/2026")
	require.Contains(t, r.stderr, "2026-12-01")
}

// Item 8: every enum error lists the valid values, in the user's language.
func TestEnumErrorsListTheValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Phạm Thị Lan")
	tests := []struct {
		name string
		args []string
		vi   []string
		en   []string
	}{
		{"outcome", []string{"tutor", "add", "--household", id, "--skill", "vneid_install", "--outcome", "gioi"},
			[]string{"independent (Tự làm được)", "needs_help (Cần hỗ trợ thêm)"}, []string{"independent (Can do it alone)"}},
		{"category", []string{"report", "add", "--household", id, "--category", "dien", "--description", "x"},
			[]string{"dien_chieu_sang (Điện – chiếu sáng)", "linh_vuc_khac (Lĩnh vực khác)"}, []string{"dien_chieu_sang (Electricity and lighting)"}},
		{"yes/no", []string{"household", "edit", id, "--vneid", "chac"},
			[]string{"có hoặc không", "c/k"}, []string{"yes or no", "y/n"}},
		{"skill", []string{"tutor", "add", "--household", id, "--skill", "bay"},
			[]string{"vneid_install (Cài đặt ứng dụng VNeID)"}, []string{"vneid_install (Installing the VNeID app)"}},
		{"status via --set", []string{"report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "x", "--set", "status=xong"},
			[]string{"submitted (Mới tiếp nhận)"}, []string{"submitted (Submitted)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, dir, tt.args...)
			require.Equal(t, exitError, r.code, r.stdout)
			for _, w := range tt.vi {
				require.Contains(t, r.stderr, w)
			}
			r = cli(t, dir, append(tt.args, "--lang", "en")...)
			for _, w := range tt.en {
				require.Contains(t, r.stderr, w)
			}
			require.False(t, i18n.HasVietnamese(strings.ReplaceAll(r.stderr, "có/không", "")), r.stderr)
		})
	}
}

// Items 9 and 10: labels instead of raw values, lists in Vietnamese order.
func TestListsReadLikeVietnamese(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	var ids []string
	for _, n := range []string{"Nguyễn Văn An", "Đỗ Thị Bình", "Ngô Bảo Châu", "Dương Chí Dũng"} {
		ids = append(ids, addHH(t, dir, n))
	}
	r := cli(t, dir, "household", "list")
	require.Equal(t, 0, r.code, r.stderr)
	order := []string{"Dương Chí Dũng", "Đỗ Thị Bình", "Ngô Bảo Châu", "Nguyễn Văn An"}
	last := -1
	for _, n := range order {
		i := strings.Index(r.stdout, n)
		require.Greater(t, i, last, "%s out of Vietnamese order:\n%s", n, r.stdout)
		last = i
	}
	r = cli(t, dir, "household", "list", "--limit", "2")
	require.Contains(t, r.stdout, "Dương Chí Dũng")
	require.Contains(t, r.stdout, "Đỗ Thị Bình")
	require.NotContains(t, r.stdout, "Nguyễn")

	require.Zero(t, cli(t, dir, "tutor", "add", "--household", ids[0], "--skill", "vneid_install", "--outcome", "needs_help").code)
	require.Zero(t, cli(t, dir, "report", "add", "--household", ids[0], "--category", "dien_chieu_sang", "--description", "Đèn hỏng").code)
	r = cli(t, dir, "tutor", "list")
	require.Contains(t, r.stdout, "Cần hỗ trợ thêm")
	require.NotContains(t, r.stdout, "needs_help")
	r = cli(t, dir, "report", "list")
	require.Contains(t, r.stdout, "Mới tiếp nhận")
	require.NotContains(t, r.stdout, "submitted")
	r = cli(t, dir, "household", "show", ids[0])
	require.Contains(t, r.stdout, "Hộ gia đình")
	require.Contains(t, r.stdout, "Tên chủ hộ")
	require.NotContains(t, r.stdout, "(households)")
	require.NotContains(t, r.stdout, "head_name")
	require.NotContains(t, r.stdout, "hamlet_code")
	r = cli(t, dir, "household", "show", ids[0], "--lang", "en")
	require.Contains(t, r.stdout, "Head of household's name")
}

// Items 22 and 23: no English units inside Vietnamese, plain words.
func TestStatusInPlainWords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	r := cli(t, dir, "status")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Phiên bản dữ liệu")
	require.Contains(t, r.stdout, "0 giây")
	require.Empty(t, i18n.Find(r.stdout), r.stdout)
	require.NotRegexp(t, `\d(ms|s|µs)\b`, r.stdout)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("tok"), 0o600))
	r = cli(t, dir, "sync", "--server", "http://127.0.0.1:1")
	require.Contains(t, r.stderr, "4G/Wi-Fi")
	require.Empty(t, i18n.Find(r.stderr), r.stderr)
	for _, cmd := range [][]string{{"help"}, {"compact", "--help"}, {"conflicts", "--help"}} {
		r = cli(t, dir, cmd...)
		require.Empty(t, i18n.Find(r.stdout+r.stderr), "%v:\n%s", cmd, r.stdout+r.stderr)
	}
}

// Item 1: an enrollment that cannot reach the server says the laptop is
// not enrolled, not that data will be sent once online.
func TestEnrollFailureSaysEnrollment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", "http://127.0.0.1:1", "--code", "ABCD-EF23")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "chưa được đăng ký")
	require.Contains(t, r.stderr, "mã đăng ký chưa bị dùng")
	require.NotContains(t, r.stderr, "sẽ được gửi khi có mạng")
	r = cli(t, dir, "enroll", "--server", "http://127.0.0.1:1", "--code", "ABCD-EF23", "--lang", "en")
	require.Contains(t, r.stderr, "not enrolled")
	require.NotContains(t, r.stderr, "will be sent once online")
}

// enrollAs enrolls a fresh laptop for a new member of team named name.
func enrollAs(t *testing.T, ts *servertest.TS, team, name string) (dir string, out string) {
	t.Helper()
	ctx := context.Background()
	m, err := ts.Admin.AddMember(ctx, team, name, "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	dir = t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", code, "--label", "máy của "+name)
	require.Equal(t, 0, r.code, r.stderr)
	return dir, r.stdout
}

// Items 11 and 12: after enrollment, the team is named once and the first
// sync says what came down; conflicts and histories name the member who
// wrote, not a replica id.
func TestMembersByNameAndWhatWasCloned(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	lan, out := enrollAs(t, ts, ts.TeamA, "Nguyễn Thị Lan")
	require.NotRegexp(t, `(?i)tổ tổ`, out)
	require.Contains(t, out, "Đã đăng ký máy này với "+servertest.TeamAName)
	id := addHHIn(t, lan, ts.HamletsA[0], "Trần Văn Tư")
	require.Zero(t, cli(t, lan, "visit", "add", "--household", id).code)
	require.Zero(t, cli(t, lan, "visit", "add", "--household", id, "--date", "01/11/2026").code)
	require.Zero(t, cli(t, lan, "tutor", "add", "--household", id, "--skill", "vneid_install").code)
	r := cli(t, lan, "sync")
	require.Equal(t, 0, r.code, r.stderr)

	tu, _ := enrollAs(t, ts, ts.TeamA, "Lê Văn Tám")
	r = cli(t, tu, "sync")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Đã tải về máy 4 bản ghi của tổ: 1 hộ, 2 lượt thăm hộ, 1 lượt hướng dẫn.")
	require.NotContains(t, r.stdout, "Bản sao")

	// A conflict: both edit the notes; Lan's edit, the earlier, loses.
	require.Zero(t, cli(t, lan, "household", "edit", id, "--notes", "ghi chú của Lan").code)
	// Tám's is the later by the rule (§8.6): Tám's clock, corrected by
	// the offset its last sync measured, is past Lan's stamp by more than
	// that offset's error (a 5 ms sleep was not, on a slow or loaded link).
	show := cli(t, lan, "household", "show", id, "--json")
	require.Equal(t, 0, show.code, show.stderr)
	st := cli(t, tu, "status", "--json")
	require.Equal(t, 0, st.code, st.stderr)
	var status map[string]any
	require.NoError(t, json.Unmarshal([]byte(st.stdout), &status), st.stdout)
	waitPast(t, status, stampIn(t, show.stdout, "notes"))
	require.Zero(t, cli(t, tu, "household", "edit", id, "--notes", "ghi chú của Tám").code)
	require.Zero(t, cli(t, tu, "sync").code)
	require.Zero(t, cli(t, lan, "sync").code)
	show = cli(t, lan, "household", "show", id, "--json")
	require.Equal(t, 0, show.code, show.stderr)
	var rec struct {
		Fields map[string]any `json:"fields"`
	}
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &rec), show.stdout)
	require.Equal(t, "ghi chú của Tám", rec.Fields["notes"], "Tám's note, the later, wins")
	r = cli(t, lan, "conflicts")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Lê Văn Tám", "the winner is named:\n%s", r.stdout)
	require.Contains(t, r.stdout, "máy này")
	require.Contains(t, r.stdout, "Hộ gia đình")
	require.Contains(t, r.stdout, "Ghi chú")
	r = cli(t, tu, "household", "show", id)
	require.Contains(t, r.stdout, "Nguyễn Thị Lan", "the history names who wrote:\n%s", r.stdout)
	require.NotContains(t, r.stdout, "máy khác")
}

func addHHIn(t *testing.T, dir, hamlet, head string) string {
	t.Helper()
	r := cli(t, dir, "household", "add", "--hamlet", hamlet, "--head", head, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec))
	return rec.ID
}

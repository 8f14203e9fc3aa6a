package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// pendingCount is the number of changes waiting for a sync.
func pendingCount(t *testing.T, dir string) int {
	t.Helper()
	r := cli(t, dir, "status", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var s struct{ Pending int }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
	return s.Pending
}

// householdNames lists the households' head names.
func householdNames(t *testing.T, dir string) []string {
	t.Helper()
	r := cli(t, dir, "household", "list", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var recs []struct{ Fields map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &recs))
	var out []string
	for _, rec := range recs {
		out = append(out, rec.Fields["head_name"].(string))
	}
	return out
}

const badList = "DANH SÁCH HỘ GIA ĐÌNH ẤP TÂN THÀNH;;;;;\n" +
	";;;;;\n" +
	"STT;Họ tên chủ hộ;Địa chỉ;Số ĐT;Số nhân khẩu;Đã cài VNeID\n" +
	"1;Nguyễn Văn An;Số 1, tổ 2;0912345678;4;x\n" +
	"2;Trần Thị Bình;Số 3;912345679;3;không\n" +
	"3;Lê Văn Cường;;12-34;2;có\n" +
	";;;;;\n" +
	"4;;Số 9;;2;\n" +
	"5;Phạm Thị Dung;Số 10;;ba;\n"

// TestImportRefusesWholeFileWithBadRows: a list with bad rows imports
// nothing, names every bad row by its line and cell, and says how to go
// on; --skip-bad imports the rest; importing the fixed file again adds
// only what was missing.
func TestImportRefusesWholeFileWithBadRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	file := filepath.Join(t.TempDir(), "ho.csv")
	require.NoError(t, os.WriteFile(file, []byte(badList), 0o600))

	r := cli(t, dir, "import", file)
	require.Equal(t, exitError, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Tiêu đề ở dòng 3")
	require.Contains(t, r.stdout, "«Họ tên chủ hộ» → tên chủ hộ (head_name)")
	require.Contains(t, r.stdout, "«STT»")
	require.Contains(t, r.stdout, "Nguyễn Văn An")
	require.Contains(t, r.stderr, "dòng 6, cột «Số ĐT»: Số điện thoại không hợp lệ")
	require.Contains(t, r.stderr, "dòng 8")
	require.Contains(t, r.stderr, "Chưa nhập tên chủ hộ")
	require.Contains(t, r.stderr, "dòng 9, cột «Số nhân khẩu»")
	require.Contains(t, r.stderr, "không có chuyện nhập dở dang")
	require.Zero(t, pendingCount(t, dir), "nothing half-imported")
	require.Empty(t, householdNames(t, dir))

	r = cli(t, dir, "import", file, "--lang", "en")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "line 6, column «Số ĐT»")
	require.Contains(t, r.stderr, "nothing is ever half-imported")

	r = cli(t, dir, "import", file, "--skip-bad")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Đã nhập 2 dòng")
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình"}, householdNames(t, dir))
	rec := cli(t, dir, "household", "search", "binh", "--json")
	require.Contains(t, rec.stdout, `"phone": "0912345679"`, "a phone Excel kept as a number gets its leading zero back")

	fixed := strings.Replace(strings.Replace(strings.Replace(badList, "12-34", "0913000111", 1), "4;;Số 9", "4;Võ Văn Em;Số 9", 1), ";ba;", ";3;", 1)
	require.NoError(t, os.WriteFile(file, []byte(fixed), 0o600))
	r = cli(t, dir, "import", file)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "2 hộ đã có trên máy này")
	require.Contains(t, r.stdout, "không nhập lại: dòng 4, 5.", "which lines are already on the laptop")
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Võ Văn Em", "Phạm Thị Dung"}, householdNames(t, dir))
}

// TestImportDryRunAndMap: --dry-run previews and writes nothing; --map
// names columns Hamlet does not recognise, and - leaves one out.
func TestImportDryRunAndMap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	file := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(file, []byte("\ufeffNgười đứng tên,Nơi cư trú,Ghi chép riêng,Ấp\nNguyễn Văn Tư,Số 4,bí mật,Tân Thành\n"), 0o600))

	r := cli(t, dir, "import", file)
	require.Equal(t, exitError, r.code, r.stdout)
	require.Contains(t, r.stderr, "Không tìm thấy dòng tiêu đề")

	m := "Người đứng tên=head_name,Nơi cư trú=address,Ghi chép riêng=-"
	r = cli(t, dir, "import", file, "--map", m, "--dry-run")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Chạy thử: 1 dòng hợp lệ")
	require.Contains(t, r.stdout, "32002-01", "the hamlet's name read as its code")
	require.Zero(t, pendingCount(t, dir))

	r = cli(t, dir, "import", file, "--map", "Người đứng tên=ten_sai")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "không có trường \"ten_sai\"")

	r = cli(t, dir, "import", file, "--map", m, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var out struct {
		Imported int
		Changes  int
		Refused  []any
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Equal(t, 1, out.Imported)
	require.Equal(t, out.Changes, pendingCount(t, dir))
	require.NotContains(t, cli(t, dir, "household", "search", "tu", "--json").stdout, "bí mật")
}

// TestImportXLSX: a workbook as Excel saves it: a title row, a date cell
// in Excel's short date format, a phone typed as a number.
func TestImportXLSX(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"Danh sách hộ dân"}))
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{"STT", "Họ và tên chủ hộ", "SĐT", "Ngày đăng ký", "Điện thoại thông minh"}))
	require.NoError(t, f.SetSheetRow(sh, "A4", &[]any{1, "Đỗ Thị Hạnh", 912000111, 45853, "có"}))
	require.NoError(t, f.SetSheetRow(sh, "A5", &[]any{2, "Hồ Văn Khải", "0912000222", 45854, "không"}))
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	require.NoError(t, err)
	require.NoError(t, f.SetCellStyle(sh, "D4", "D5", style))
	file := filepath.Join(t.TempDir(), "ho.xlsx")
	require.NoError(t, f.SaveAs(file))

	r := cli(t, dir, "import", file)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Tiêu đề ở dòng 3")
	require.Contains(t, r.stdout, "Đã nhập 2 dòng")
	out := cli(t, dir, "household", "search", "hanh", "--json").stdout
	require.Contains(t, out, `"registered_on": "2025-07-15"`)
	require.Contains(t, out, `"phone": "0912000111"`)
	require.Contains(t, out, `"has_smartphone": true`)
}

// TestLineRuns: lines already on the laptop are listed as runs, and a
// list imported again (thousands of them) in a few.
func TestLineRuns(t *testing.T) {
	t.Parallel()
	require.Equal(t, "4", lineRuns([]int{4}, 20))
	require.Equal(t, "4, 5, 7-9, 12", lineRuns([]int{4, 5, 7, 8, 9, 12}, 20))
	many := make([]int, 0, 30000)
	for i := 2; i < 30000; i++ {
		if i%100 != 0 {
			many = append(many, i)
		}
	}
	require.Equal(t, "2-99, 101-199, …", lineRuns(many, 2))
}

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// A household list saved with a password (Excel: File, Info, Protect
// Workbook, Encrypt with Password) is not damaged: the volunteer is told
// it is password-protected and to save it again without a password, in
// Vietnamese and with --lang en.
func TestImportPasswordProtectedXLSX(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetRow(f.GetSheetName(0), "A1", &[]any{"Họ và tên chủ hộ", "SĐT"}))
	require.NoError(t, f.SetSheetRow(f.GetSheetName(0), "A2", &[]any{"Đỗ Thị Hạnh", "0912000111"}))
	file := filepath.Join(t.TempDir(), "ho.xlsx")
	require.NoError(t, f.SaveAs(file, excelize.Options{Password: "mat-khau"}))

	r := cli(t, dir, "import", file)
	require.NotEqual(t, 0, r.code)
	require.NotContains(t, r.stderr, "có thể bị hỏng")
	require.Contains(t, r.stderr, "đặt mật khẩu")
	require.Contains(t, r.stderr, "lưu lại không có mật khẩu")
	r = cli(t, dir, "import", file, "--lang", "en")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "password-protected")
	require.Contains(t, r.stderr, "without a password")
}

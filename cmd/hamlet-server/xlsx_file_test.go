package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// writeWorkbook saves a workbook of rows, password-protected when password
// is not "" (Excel's "Encrypt with Password").
func writeWorkbook(t *testing.T, name, password string, rows ...[]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow(f.GetSheetName(0), cell, &r))
	}
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, f.SaveAs(p, excelize.Options{Password: password}))
	return p
}

// The operator's files are CSV. A workbook given instead, password-protected
// or not, is told for what it is and what to do (save it without a password
// as CSV UTF-8), in Vietnamese and with --lang en, by every command that
// reads a units or hamlets file: not a dump of its bytes as a hamlet code,
// nor a header without the columns.
func TestOperatorFilesThatAreWorkbooks(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Equal(t, 0, code, errOut)
	locked := writeWorkbook(t, "ap.xlsx", "mat-khau", []any{"code", "name"}, []any{"32002-03", "Ấp 3"})
	plain := writeWorkbook(t, "ap-mo.xlsx", "", []any{"code", "name"}, []any{"32002-03", "Ấp 3"})
	for _, tc := range []struct {
		file   string
		vi, en []string
	}{
		{locked, []string{"đặt mật khẩu", "lưu lại không có mật khẩu", "CSV UTF-8"}, []string{"password-protected", "without a password", "CSV UTF-8"}},
		{plain, []string{"tệp Excel (.xlsx)", "CSV UTF-8"}, []string{"Excel workbook (.xlsx)", "CSV UTF-8"}},
	} {
		for _, args := range [][]string{
			{"unit", "add-hamlets", "--file", tc.file},
			{"units", "import", tc.file},
			{"units", "reorganise", "--file", tc.file},
			{"units", "reorganise", "--hamlets", tc.file},
		} {
			code, _, errOut := cli(t, dir, args...)
			require.NotEqual(t, 0, code, "%v", args)
			require.Less(t, len(errOut), 600, "%v: a message, not the file's bytes: %s", args, errOut)
			for _, w := range tc.vi {
				require.Contains(t, errOut, w, "%v", args)
			}
			code, _, errOut = cli(t, dir, append(args, "--lang", "en")...)
			require.NotEqual(t, 0, code, "%v", args)
			for _, w := range tc.en {
				require.Contains(t, errOut, w, "%v --lang en", args)
			}
		}
	}
}

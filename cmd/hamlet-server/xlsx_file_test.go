package main

import (
	"archive/zip"
	"os"
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

// writeZip saves a zip archive of the named parts, in order (an .ods
// starts with its mimetype part, stored, as LibreOffice writes it).
func writeZip(t *testing.T, name string, parts ...[2]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for _, part := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: part[0], Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write([]byte(part[1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return p
}

// Other zip archives given for an operator's CSV file are told for what
// they are, not as an Excel workbook: a LibreOffice spreadsheet (.ods), a
// Word document, a zip holding the CSV file itself.
func TestOperatorFilesThatAreOtherZips(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Equal(t, 0, code, errOut)
	csvText := "code,name\n32002-03,Ấp 3\n"
	ods := writeZip(t, "ap.ods", [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", "<office:document-content/>"})
	docx := writeZip(t, "ap.docx", [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"})
	zipped := writeZip(t, "ap.zip", [2]string{"ap.csv", csvText})
	for _, tc := range []struct {
		file   string
		vi, en []string
	}{
		{ods, []string{"LibreOffice", ".ods", "CSV UTF-8"}, []string{"LibreOffice", ".ods", "CSV UTF-8"}},
		{docx, []string{"Word", "CSV UTF-8"}, []string{"Word", "CSV UTF-8"}},
		{zipped, []string{"tệp nén (.zip)", "giải nén", "ap.csv"}, []string{"zip archive", "extract it", "ap.csv"}},
	} {
		for _, args := range [][]string{
			{"unit", "add-hamlets", "--file", tc.file},
			{"units", "import", tc.file},
			{"units", "reorganise", "--hamlets", tc.file},
		} {
			code, _, errOut := cli(t, dir, args...)
			require.NotEqual(t, 0, code, "%v", args)
			require.NotContains(t, errOut, ".xlsx)", "%v: told as a workbook", args)
			for _, w := range tc.vi {
				require.Contains(t, errOut, w, "%v", args)
			}
			code, _, errOut = cli(t, dir, append(args, "--lang", "en")...)
			require.NotEqual(t, 0, code, "%v", args)
			require.NotContains(t, errOut, "Excel workbook", "%v --lang en: told as a workbook", args)
			for _, w := range tc.en {
				require.Contains(t, errOut, w, "%v --lang en", args)
			}
		}
	}
}

// calendar import reads a CSV file too: a workbook, an .ods or a zipped
// CSV given instead is told for what it is and what to do, not as a file
// missing its header's columns.
func TestCalendarImportOfAWorkbook(t *testing.T) {
	dir := t.TempDir()
	plain := writeWorkbook(t, "lich.xlsx", "", []any{"date", "kind", "note"}, []any{"2027-02-05", "off", "Tết"})
	ods := writeZip(t, "lich.ods", [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", "<office:document-content/>"})
	zipped := writeZip(t, "lich.zip", [2]string{"lich-2027.csv", "date,kind\n"})
	for _, tc := range []struct {
		file   string
		vi, en string
	}{
		{plain, "tệp Excel (.xlsx)", "Excel workbook (.xlsx)"},
		{ods, "LibreOffice", "LibreOffice"},
		{zipped, "lich-2027.csv", "lich-2027.csv"},
	} {
		code, _, errOut := cli(t, dir, "calendar", "import", tc.file)
		require.NotEqual(t, 0, code)
		require.Contains(t, errOut, tc.vi)
		require.Contains(t, errOut, "CSV UTF-8")
		require.Less(t, len(errOut), 600, "a message, not the file's bytes: %s", errOut)
		code, _, errOut = cli(t, dir, "calendar", "import", tc.file, "--lang", "en")
		require.NotEqual(t, 0, code)
		require.Contains(t, errOut, tc.en)
	}
}

// A zip given for an operator's CSV file that cannot be read (cut short
// by a download or a copy that stopped midway) is told as what it is, a
// damaged file to copy again, not as an Excel workbook to save as CSV.
func TestOperatorFilesThatAreDamagedZips(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Equal(t, 0, code, errOut)
	whole, err := os.ReadFile(writeZip(t, "ap.zip", [2]string{"ap.csv", "code,name\n32002-03,Ấp 3\n"}))
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "ap.zip")
	require.NoError(t, os.WriteFile(cut, whole[:len(whole)/2], 0o600))
	for _, args := range [][]string{
		{"unit", "add-hamlets", "--file", cut},
		{"units", "import", cut},
		{"units", "reorganise", "--hamlets", cut},
		{"calendar", "import", cut},
	} {
		code, _, errOut := cli(t, dir, args...)
		require.NotEqual(t, 0, code, "%v", args)
		require.NotContains(t, errOut, "tệp là tệp Excel (.xlsx)", "%v: told as a workbook", args)
		for _, w := range []string{"bị hỏng", "chép lại", "CSV UTF-8"} {
			require.Contains(t, errOut, w, "%v", args)
		}
		code, _, errOut = cli(t, dir, append(args, "--lang", "en")...)
		require.NotEqual(t, 0, code, "%v", args)
		require.NotContains(t, errOut, "the file is an Excel workbook", "%v --lang en: told as a workbook", args)
		for _, w := range []string{"damaged", "copy it again", "CSV UTF-8"} {
			require.Contains(t, errOut, w, "%v --lang en", args)
		}
	}
}

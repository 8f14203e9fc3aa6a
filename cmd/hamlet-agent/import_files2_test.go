package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// patchXLSX rewrites one part of a saved workbook.
func patchXLSX(t *testing.T, file, part string, edit func(string) string) {
	t.Helper()
	zr, err := zip.OpenReader(file)
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		if f.Name == part {
			b = []byte(edit(string(b)))
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	zr.Close()
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))
}

// D6: an Excel error value (#N/A of a VLOOKUP) read as a head's name.
func TestImportRefusesARowWhoseCellShowsAnExcelError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"STT", "Họ tên chủ hộ", "Địa chỉ"}))
	require.NoError(t, f.SetSheetRow(sh, "A2", &[]any{1, "Nguyễn Văn An", "Số 1"}))
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{2, "XXX", "Số 2"}))
	file := filepath.Join(t.TempDir(), "ho.xlsx")
	require.NoError(t, f.SaveAs(file))
	f.Close()
	patchXLSX(t, file, "xl/worksheets/sheet1.xml", func(s string) string {
		i := strings.Index(s, `<c r="B3"`)
		j := strings.Index(s[i:], "</c>") + i + 4
		return s[:i] + `<c r="B3" t="e"><f>VLOOKUP(A3,DS!A:B,2,0)</f><v>#N/A</v></c>` + s[j:]
	})
	r := cli(t, dir, "import", file)
	t.Log(r.stdout, r.stderr)
	require.NotContains(t, householdNames(t, dir), "#N/A")
	require.Equal(t, exitError, r.code, "the row is refused: nothing half-imported")
	require.Contains(t, r.stderr, "dòng 3, cột «Họ tên chủ hộ»")
	require.Contains(t, r.stderr, "#N/A")
	require.Empty(t, householdNames(t, dir))
	r = cli(t, dir, "import", "--skip-bad", file)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, []string{"Nguyễn Văn An"}, householdNames(t, dir))
}

// Checks that should pass: encodings, phones, dates, headers.
func TestImportReadsFilesAsTeamsHaveThem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	// Windows-1258 refused
	enc, err := charmap.Windows1252.NewEncoder().String("Ho ten chu ho;Dia chi\r\nNguy")
	require.NoError(t, err)
	cp := []byte(enc + "\xea\xden V\xe3n An;S\xf4\xcc 1\r\n")
	r := cli(t, dir, "import", writeFile(t, "a.csv", cp))
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "UTF-8", r.stderr)
	// TCVN3
	r = cli(t, dir, "import", writeFile(t, "b.csv", []byte("Ho ten chu ho,Dia chi\r\nNguy\xd4n V\xa8n An,S\xe8 1\r\n")))
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "TCVN3", r.stderr)

	// phones and dates, no diacritics in header, trailing blank rows, dup
	csv := "\ufeffDANH SACH;;;;\r\nSTT;Ho ten chu ho;So dien thoai;Ngay dang ky;Dia chi\r\n" +
		"1;A Một;0912 345 678;15/07/2025;x1\r\n" +
		"2;B Hai;0912.345.679;1/7/2025;x2\r\n" +
		"3;C Ba;+84 912 345 670;2025-07-01;x3\r\n" +
		"4;D Bốn;912345671;01-07-2025;x4\r\n" +
		";;;;\r\n;;;;\r\n"
	r = cli(t, dir, "import", writeFile(t, "c.csv", []byte(csv)))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, householdNames(t, dir), 4)
	out := cli(t, dir, "household", "list", "--json").stdout
	for _, p := range []string{"0912345678", "0912345679", "0912345670", "0912345671"} {
		require.Contains(t, out, p)
	}
	require.Contains(t, out, "2025-07-01")

	// d/m/yy: refused with line
	r = cli(t, dir, "import", writeFile(t, "d.csv", []byte("Ho ten chu ho;Ngay dang ky\r\nE Năm;15/7/25\r\n")))
	t.Log(r.stderr)
	require.Equal(t, exitError, r.code)
	// duplicate in file
	r = cli(t, dir, "import", writeFile(t, "e.csv", []byte("Ho ten chu ho;Dia chi\r\nF Sáu;y\r\nF SÁU;Y\r\n")))
	t.Log(r.stderr)
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "dòng 2")

	// XLSX: numbers for phones, custom date format, 84 prefix as number
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"Họ tên chủ hộ", "SĐT", "Ngày đăng ký", "Số nhân khẩu"}))
	require.NoError(t, f.SetSheetRow(sh, "A2", &[]any{"G Bảy", 912000333, 45853, 4}))
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{"H Tám", 84912000444, 45854, 3.0}))
	st, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")})
	require.NoError(t, err)
	require.NoError(t, f.SetCellStyle(sh, "C2", "C3", st))
	file := filepath.Join(t.TempDir(), "g.xlsx")
	require.NoError(t, f.SaveAs(file))
	f.Close()
	r = cli(t, dir, "import", file)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	out = cli(t, dir, "household", "search", "tam", "--json").stdout
	require.Contains(t, out, "0912000444")
	require.Contains(t, out, "2025-07-16")
}

func ptr[T any](v T) *T { return &v }

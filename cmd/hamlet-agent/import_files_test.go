package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/unicode"
)

// importInto enrolls a new laptop and imports into it the file name
// holding data.
func importInto(t *testing.T, name string, data []byte) (string, result) {
	t.Helper()
	dir := t.TempDir()
	enrollLocally(t, dir)
	return dir, cli(t, dir, "import", writeFile(t, name, data))
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// Defects found by helper 93 (stop 42) with files as teams have them.
//
// D1: a hand-edited CSV with one unbalanced quote: the rest of the file
// folds into one cell (LazyQuotes), rows vanish without a word.
func TestImportRefusesACSVCellWhoseQuoteNeverCloses(t *testing.T) {
	t.Parallel()
	csv := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;Ghi chú\r\n" +
		"1;Nguyễn Văn An;Số 1;\"hộ nghèo\r\n" + // closing quote forgotten
		"2;Trần Thị Bình;Số 2;\r\n" +
		"3;Lê Văn Cường;Số 3;\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, exitError, r.code, "an unclosed quote is refused, not imported short:\n"+r.stdout+r.stderr)
	require.Contains(t, r.stderr, "Dòng 2")
	require.Contains(t, r.stderr, "ngoặc kép")
	require.Empty(t, householdNames(t, dir))

	// A quote inside a cell that does not open with one is text, and a
	// quoted cell on several lines (Alt+Enter in Excel) is one cell.
	csv = "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;Ghi chú\r\n" +
		"1;Nguyễn Văn An;Số 1 \"A\";\r\n" +
		"2;Trần Thị Bình;Số 2;\"hộ nghèo\r\nđã thăm \"\"tháng 7\"\"\"\r\n" +
		"3;Lê Văn Cường;Số 3;\r\n"
	r = cli(t, dir, "import", writeFile(t, "ho2.csv", []byte(csv)))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"}, householdNames(t, dir))
	out := cli(t, dir, "household", "list", "--json").stdout
	require.Contains(t, out, `Số 1 \"A\"`)
	require.Contains(t, out, `hộ nghèo\nđã thăm \"tháng 7\"`)
}

// D2: a semicolon CSV (Vietnamese-locale Excel) whose title line has
// more commas than the sheet has columns: the delimiter is taken from
// the title line alone.
func TestImportFindsTheSeparatorUnderATitleWithCommas(t *testing.T) {
	t.Parallel()
	csv := "\ufeffDANH SÁCH HỘ GIA ĐÌNH ẤP TÂN THÀNH, XÃ TÂN PHÚ, HUYỆN CHÂU THÀNH, TỈNH AN GIANG;;;\r\n" +
		";;;\r\n" +
		"STT;Họ tên chủ hộ;Địa chỉ;Số điện thoại\r\n" +
		"1;Nguyễn Văn An;Số 1, tổ 2;0912345678\r\n" +
		"2;Trần Thị Bình;Số 3;0912345679\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình"}, householdNames(t, dir))
}

// D2b: the same with Excel's "Unicode text" (UTF-16, tabs).
func TestImportFindsTheTabsOfUnicodeTextUnderATitleWithCommas(t *testing.T) {
	t.Parallel()
	txt := "DANH SÁCH HỘ, ẤP TÂN THÀNH, XÃ TÂN PHÚ, TỈNH AN GIANG\t\t\t\r\n" +
		"STT\tHọ tên chủ hộ\tĐịa chỉ\tSố điện thoại\r\n" +
		"1\tNguyễn Văn An\tSố 1\t0912345678\r\n"
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(txt)
	require.NoError(t, err)
	dir, r := importInto(t, "ho.txt", []byte(b))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, []string{"Nguyễn Văn An"}, householdNames(t, dir))
}

// D4: the signature block under an official list (NGƯỜI LẬP BIỂU,
// TRƯỞNG ẤP, their names) was imported as households.
func TestImportLeavesOutTheSignaturesUnderANumberedTable(t *testing.T) {
	t.Parallel()
	csv := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;Số nhân khẩu\r\n" +
		"1;Nguyễn Văn An;Số 1;4\r\n" +
		"2;Trần Thị Bình;Số 2;3\r\n" +
		";;;\r\n" +
		";NGƯỜI LẬP BIỂU;TRƯỞNG ẤP;\r\n" +
		";;;\r\n" +
		";Lê Văn Lập;Phạm Văn Trưởng;\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình"}, householdNames(t, dir))
	require.Contains(t, r.stdout, "Bỏ qua 2 dòng dưới bảng")
	require.Contains(t, r.stdout, "dòng 5, 7")

	// Without a row-number column nothing is guessed.
	dir = t.TempDir()
	enrollLocally(t, dir)
	csv = "\ufeffHọ tên chủ hộ;Địa chỉ\r\nNguyễn Văn An;Số 1\r\n;\r\nLê Văn Lập;Phạm Văn Trưởng\r\n"
	r = cli(t, dir, "import", writeFile(t, "ho.csv", []byte(csv)))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Lê Văn Lập"}, householdNames(t, dir))
}

// D5: a phone copied from Zalo or a web page, digits grouped with
// no-break spaces, reads as spaces in Excel but is refused.
func TestImportTakesPhonesWithNoBreakSpaces(t *testing.T) {
	t.Parallel()
	csv := "\ufeffHọ tên chủ hộ;Số điện thoại\r\nNguyễn Văn An;0912\u00a0345\u00a0678\r\n"
	_, r := importInto(t, "ho.csv", []byte(csv))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
}

// D3: the two-row header of official lists (refused before: "Chưa nhập
// tên chủ hộ" on the second header row, read as data): a group header merged over
// the digital-skill columns, their names on the row below.
func TestImportReadsATwoRowHeader(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"DANH SÁCH HỘ GIA ĐÌNH"}))
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{"STT", "Họ tên chủ hộ", "Địa chỉ", "Chuyển đổi số"}))
	require.NoError(t, f.SetSheetRow(sh, "D4", &[]any{"Có điện thoại thông minh", "Đã cài VNeID"}))
	require.NoError(t, f.MergeCell(sh, "A3", "A4"))
	require.NoError(t, f.MergeCell(sh, "B3", "B4"))
	require.NoError(t, f.MergeCell(sh, "C3", "C4"))
	require.NoError(t, f.MergeCell(sh, "D3", "E3"))
	require.NoError(t, f.SetSheetRow(sh, "A5", &[]any{1, "Nguyễn Văn An", "Số 1", "có", "có"}))
	require.NoError(t, f.SetSheetRow(sh, "A6", &[]any{2, "Trần Thị Bình", "Số 2", "có", "không"}))
	file := filepath.Join(t.TempDir(), "ho.xlsx")
	require.NoError(t, f.SaveAs(file))
	r := cli(t, dir, "import", file)
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	out := cli(t, dir, "household", "search", "an", "--json").stdout
	require.Contains(t, out, `"vneid_installed": true`)
}

// Helper 98 (stop 42), of the fixes above.
//
// R1: one household whose STT was forgotten, in the middle of the table,
// after a blank row earlier in the table: rows numbered after it show the
// table did not end, yet it is left out as a "signature" row.
func TestImportTakesAHouseholdWhoseNumberWasForgotten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	csv := "STT;Họ tên chủ hộ;Địa chỉ\r\n" +
		"1;Nguyễn Văn An;Số 1\r\n" +
		"2;Trần Thị Bình;Số 2\r\n" +
		";;\r\n" +
		"3;Lê Văn Cường;Số 3\r\n" +
		";Phạm Thị Dung;Số 4\r\n" + // STT forgotten
		"5;Hoàng Văn Em;Số 5\r\n"
	r := cli(t, dir, "import", writeFile(t, "ho.csv", []byte(csv)))
	t.Log(r.stdout, r.stderr)
	require.Contains(t, householdNames(t, dir), "Phạm Thị Dung")
}

// R2: a signature block whose text sits in column A (a merged cell's
// value is in its first column, the STT column): not left out.
func TestImportLeavesOutSignaturesWrittenInTheNumberColumn(t *testing.T) {
	t.Parallel()
	csv := "STT;Họ tên chủ hộ;Địa chỉ\r\n" +
		"1;Nguyễn Văn An;Số 1\r\n" +
		"2;Trần Thị Bình;Số 2\r\n" +
		";;\r\n" +
		"NGƯỜI LẬP BIỂU;;TRƯỞNG ẤP\r\n" +
		";;\r\n" +
		"Nguyễn Văn Bê;;Trần Văn Xê\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình"}, householdNames(t, dir))
}

// R3: ordinary files.
func TestImportReadsOrdinaryCSVs(t *testing.T) {
	t.Parallel()
	for name, csv := range map[string]string{
		"eof-quoted":     "Họ tên chủ hộ,Ghi chú\r\nNguyễn Văn An,\"nhà \"\"cũ\"\", tổ 2\"",
		"bom-quote":      "\ufeff\"Họ tên chủ hộ\",\"Địa chỉ\"\r\n\"Nguyễn Văn An\",\"Số 1, tổ 2\"\r\n",
		"one-col":        "Họ tên chủ hộ\r\nNguyễn Văn An\r\n\"Trần, Thị Bình\"\r\n",
		"semis-in-cells": "Họ tên chủ hộ,Địa chỉ,Ghi chú\r\nNguyễn Văn An,Số 1; tổ 2,a; b\r\n",
		"lf-only":        "Họ tên chủ hộ;Ghi chú\n\"Nguyễn Văn An\";\"x\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir, r := importInto(t, "ho.csv", []byte(csv))
			t.Log(r.stdout, r.stderr)
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			require.Contains(t, householdNames(t, dir), "Nguyễn Văn An")
		})
	}
}

// R6: a CSV whose line ends were converted twice (CR CR LF: FTP ascii
// mode, a CRLF file through unix2dos): a quoted cell ending a line is
// not closed for the lazy csv.Reader (it closes on "\r\n" or "\n" only),
// but unclosedQuote takes the lone CR as closing: the rows after fold
// into that cell without a word.
func TestImportReadsLineEndsConvertedTwice(t *testing.T) {
	t.Parallel()
	csv := "STT,Họ tên chủ hộ,Địa chỉ\r\n" +
		"1,Nguyễn Văn An,\"Số 1, tổ 2\"\r\n" +
		"2,Trần Thị Bình,\"Số 2, tổ 2\"\r\n" +
		"3,Lê Văn Cường,\"Số 3, tổ 2\"\r\n"
	csv = strings.ReplaceAll(csv, "\r\n", "\r\r\n")
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, householdNames(t, dir), 3, "rows lost without a word")
}

// R8: the title-line rule defeated by a bare quote inside an unquoted
// cell (text to the lazy reader, but delimiter() treats it as opening a
// quoted run to the end of the file).
func TestImportFindsTheSeparatorPastAnInchMark(t *testing.T) {
	t.Parallel()
	csv := "DANH SÁCH HỘ, ẤP TÂN THÀNH, XÃ AN BÌNH\r\n" +
		"STT;Họ tên chủ hộ;Địa chỉ;Ghi chú\r\n" +
		"1;Nguyễn Văn An;Nhà 21\" tôn;x\r\n" +
		"2;Trần Thị Bình;Số 2;\r\n"
	_, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code)
}

// Helper 99 (stop 42), of the fixes above: a row number such as "2a"
// turned the signature detection off; a doubled quote inside a quoted
// cell made the separator count take the cell's commas.
func TestImportLeavesOutSignaturesUnderATableNumberedWithA2a(t *testing.T) {
	t.Parallel()
	csv := "STT;Họ tên chủ hộ;Địa chỉ\r\n" +
		"1;Nguyễn Văn An;Số 1\r\n" +
		"2;Trần Thị Bình;Số 2\r\n" +
		"2a;Trần Văn Bảo;Số 2\r\n" +
		"3;Lê Văn Cường;Số 3\r\n" +
		";;\r\n" +
		";NGƯỜI LẬP BIỂU;TRƯỞNG ẤP\r\n" +
		";;\r\n" +
		";Nguyễn Văn Bê;Trần Văn Xê\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình", "Trần Văn Bảo", "Lê Văn Cường"}, householdNames(t, dir))
}

// A doubled quote ("") inside a quoted cell: delimiter() now ends the
// quoted run there and counts the commas after it, so a title line with
// commas wins the tie over the semicolons.
func TestImportFindsTheSeparatorPastADoubledQuote(t *testing.T) {
	t.Parallel()
	csv := "DANH SÁCH HỘ, ẤP TÂN THÀNH, XÃ TÂN HƯNG\r\n" +
		"STT;Họ tên chủ hộ;Địa chỉ;Ghi chú\r\n" +
		"1;Nguyễn Văn An;\"Nhà 21\"\" tôn, tổ 2, ấp 3\";x\r\n" +
		"2;Trần Thị Bình;\"Nhà 9\"\" lá, tổ 1, ấp 3\";y\r\n" +
		"3;Lê Văn Cường;\"Nhà 4\"\" gỗ, tổ 5, ấp 3\";z\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	t.Log(r.stdout, r.stderr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"}, householdNames(t, dir))
}

// A two-row header whose first row names one field only (helper 99): the
// second row was taken for the header, and no column was the head's name.
func TestImportReadsATwoRowHeaderWhoseFirstRowNamesOneField(t *testing.T) {
	t.Parallel()
	csv := "STT;Họ tên chủ hộ;Chuyển đổi số;\r\n" +
		";;Có điện thoại thông minh;Đã cài VNeID\r\n" +
		"1;Nguyễn Văn An;có;có\r\n" +
		"2;Trần Thị Bình;có;không\r\n"
	dir, r := importInto(t, "ho.csv", []byte(csv))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình"}, householdNames(t, dir))
	require.Contains(t, cli(t, dir, "household", "search", "an", "--json").stdout, `"vneid_installed": true`)
}

// What a signature block may carry in the row-number column (helper 100):
// a date, a note mark, a letter, a roman numeral, a phone, words. Only a
// plain row number marks the table's last row; "1)" still does (a note
// mark written so is read as a row number: not handled).
func TestImportLeavesOutSignaturesWhateverTheirFirstColumn(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"15/07", "(1)", "X", "C", "TM.", "KT.", "Ký tên", "0912345678", "7/2024", "II"} {
		t.Run(first, func(t *testing.T) {
			csv := "STT;Họ tên chủ hộ;Địa chỉ\r\n" +
				"1;Nguyễn Văn An;Số 1\r\n2;Trần Thị Bình;Số 2\r\n3;Lê Văn Cường;Số 3\r\n" +
				";;\r\n;NGƯỜI LẬP BIỂU;TRƯỞNG ẤP\r\n;;\r\n" +
				first + ";Nguyễn Văn Bê;Trần Văn Xê\r\n"
			dir, r := importInto(t, "ho.csv", []byte(csv))
			require.ElementsMatch(t, []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"}, householdNames(t, dir), r.stdout+r.stderr)
		})
	}
}

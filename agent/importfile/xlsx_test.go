package importfile

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// readWithExcelize is the reader this package used before xlsx.go: the
// oracle the tests compare with, wherever the two mean to agree.
func readWithExcelize(t testing.TB, data []byte, sheet string) *Sheet {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{ShortDatePattern: "yyyy-mm-dd"})
	require.NoError(t, err)
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetList()[f.GetActiveSheetIndex()]
	}
	rows, err := f.Rows(sheet)
	require.NoError(t, err)
	defer rows.Close()
	s := &Sheet{Name: sheet}
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns()
		require.NoError(t, err)
		if len(cells) == 0 {
			continue
		}
		s.Rows = append(s.Rows, cells)
		s.Lines = append(s.Lines, line)
	}
	require.NoError(t, rows.Error())
	return s
}

func saved(t testing.TB, f *excelize.File) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, f.Write(&b))
	require.NoError(t, f.Close())
	return b.Bytes()
}

func styled(t *testing.T, f *excelize.File, sheet, cell string, st *excelize.Style) {
	t.Helper()
	id, err := f.NewStyle(st)
	require.NoError(t, err)
	require.NoError(t, f.SetCellStyle(sheet, cell, cell, id))
}

// TestReadXLSXAsExcelize: workbooks written by excelize read the same with
// this reader as with excelize's, in the formats where both mean the same:
// text, General numbers (integers, decimals, beyond 15 digits), Excel's
// short date, a phone typed as a number in a zero-padded format, text
// format, booleans, rich text, gaps between rows and cells, the active
// sheet and a sheet by name.
func TestReadXLSXAsExcelize(t *testing.T) {
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"Danh sách hộ dân ấp Tân Thành"}))
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{"STT", "Họ và tên chủ hộ", "SĐT", "Ngày đăng ký", "Ghi chú"}))
	require.NoError(t, f.SetSheetRow(sh, "A4", &[]any{1, "Đỗ Thị Hạnh", 912000111, 45853, "A & B <c> \"d\""}))
	require.NoError(t, f.SetSheetRow(sh, "A5", &[]any{2, "  Hồ Văn Khải  ", "0912000222", 45854, "dòng 1\ndòng 2"}))
	require.NoError(t, f.SetSheetRow(sh, "A6", &[]any{3.5, 0.1 + 0.2, -42, 123456789012, 1234567890123456789}))
	require.NoError(t, f.SetSheetRow(sh, "A7", &[]any{true, false, 1e-7, 2.5e20, "x"}))
	require.NoError(t, f.SetCellValue(sh, "B9", "chỉ cột B"))
	require.NoError(t, f.SetCellValue(sh, "E9", 7))
	require.NoError(t, f.SetCellValue(sh, "H12", "xa"))
	require.NoError(t, f.SetCellRichText(sh, "A13", []excelize.RichTextRun{{Text: "Nguyễn "}, {Text: "Văn An", Font: &excelize.Font{Bold: true}}}))
	require.NoError(t, f.SetCellValue(sh, "A14", 912345678))
	styled(t, f, sh, "A14", &excelize.Style{CustomNumFmt: ptr("0000000000")})
	require.NoError(t, f.SetCellValue(sh, "B14", 1234))
	styled(t, f, sh, "B14", &excelize.Style{NumFmt: 49})
	require.NoError(t, f.SetCellValue(sh, "C14", 45853.5))
	styled(t, f, sh, "C14", &excelize.Style{NumFmt: 14})
	for _, c := range []string{"D4", "D5"} {
		styled(t, f, sh, c, &excelize.Style{NumFmt: 14})
	}
	_, err := f.NewSheet("Ấp 2")
	require.NoError(t, err)
	require.NoError(t, f.SetSheetRow("Ấp 2", "A2", &[]any{"Họ tên", "SĐT"}))
	require.NoError(t, f.SetSheetRow("Ấp 2", "A3", &[]any{"Lê Văn Tám", "0987"}))
	other := saved(t, f)

	for _, sheet := range []struct{ asked, named string }{{"", ""}, {"Ấp 2", "Ấp 2"}, {"ấp 2", "Ấp 2"}} {
		got, err := ReadXLSX(bytes.NewReader(other), sheet.asked)
		require.NoError(t, err, sheet.asked)
		want := readWithExcelize(t, other, sheet.named)
		require.Equal(t, want.Rows, got.Rows, "sheet %q", sheet.asked)
		require.Equal(t, want.Lines, got.Lines, "sheet %q", sheet.asked)
	}
	got, err := ReadXLSX(bytes.NewReader(other), "")
	require.NoError(t, err)
	require.Equal(t, []string{"0912345678", "1234", "2025-07-15"}, got.Rows[len(got.Rows)-1], "the zero-padded phone, text, a date with a time of day in a date format")

	// The active sheet is the one Excel opens on.
	f2, err := excelize.OpenReader(bytes.NewReader(other))
	require.NoError(t, err)
	f2.SetActiveSheet(1)
	second := saved(t, f2)
	got, err = ReadXLSX(bytes.NewReader(second), "")
	require.NoError(t, err)
	require.Equal(t, "Ấp 2", got.Name)
	require.Equal(t, readWithExcelize(t, second, "").Rows, got.Rows)

	_, err = ReadXLSX(bytes.NewReader(other), "Ấp 9")
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Contains(t, fe.Message("vi"), "Sheet1, Ấp 2")
}

func ptr[T any](v T) *T { return &v }

// TestReadXLSXFormats: where this reader means to differ from a
// spreadsheet engine: every date format reads as YYYY-MM-DD (whatever the
// locale that wrote it), and other number formats read as the number's
// digits (an importer wants 1234, not "1,234 ₫").
func TestReadXLSXFormats(t *testing.T) {
	tests := []struct {
		name  string
		value any
		style excelize.Style
		want  string
	}{
		{"Vietnamese date", 45853, excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")}, "2025-07-15"},
		{"month name", 45853, excelize.Style{CustomNumFmt: ptr(`d" tháng "m" năm "yyyy`)}, "2025-07-15"},
		{"date and time", 45853.75, excelize.Style{NumFmt: 22}, "2025-07-15 18:00"},
		{"time only", 0.5, excelize.Style{CustomNumFmt: ptr("hh:mm:ss")}, "12:00:00"},
		{"built-in time", 0.25, excelize.Style{NumFmt: 20}, "06:00"},
		{"before March 1900", 59, excelize.Style{NumFmt: 14}, "1900-02-28"},
		{"Excel's 29 February 1900", 60, excelize.Style{NumFmt: 14}, "1900-02-29"},
		{"1 March 1900", 61, excelize.Style{NumFmt: 14}, "1900-03-01"},
		{"thousands", 1234, excelize.Style{NumFmt: 3}, "1234"},
		{"currency", 150000, excelize.Style{CustomNumFmt: ptr(`#,##0 "₫"`)}, "150000"},
		{"percent", 0.25, excelize.Style{NumFmt: 9}, "0.25"},
		{"two decimals", 3.5, excelize.Style{NumFmt: 2}, "3.5"},
		{"elapsed hours, a duration", 1.5, excelize.Style{NumFmt: 46}, "1.5"},
		{"custom elapsed hours", 1.5, excelize.Style{CustomNumFmt: ptr("[h]:mm")}, "1.5"},
		{"zero-padded, not an integer", 12.5, excelize.Style{CustomNumFmt: ptr("00000")}, "12.5"},
		{"coloured sections", -3, excelize.Style{CustomNumFmt: ptr("0;[Red]-0")}, "-3"},
	}
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	for i, tt := range tests {
		cell := fmt.Sprintf("A%d", i+1)
		require.NoError(t, f.SetCellValue(sh, cell, tt.value))
		st := tt.style
		styled(t, f, sh, cell, &st)
	}
	got, err := ReadXLSX(bytes.NewReader(saved(t, f)), "")
	require.NoError(t, err)
	require.Len(t, got.Rows, len(tests))
	for i, tt := range tests {
		require.Equal(t, []string{tt.want}, got.Rows[i], tt.name)
	}
}

// workbookOf writes a package by hand, for what excelize does not write:
// inline strings, formula results, errors, ISO dates, 1904 dates,
// phonetic runs, escapes, cells and rows without references.
func workbookOf(parts map[string]string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, body := range parts {
		fw, err := w.Create(name)
		if err != nil {
			panic(err) // a bytes.Buffer does not fail
		}
		_, _ = fw.Write([]byte(body))
	}
	_ = w.Close()
	return b.Bytes()
}

const (
	xmlHead   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain    = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	relsRoot  = xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	relsWbFmt = xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="%s"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
)

func handWorkbook(wbPr, strings, sheetData string) []byte {
	return workbookOf(map[string]string{
		"_rels/.rels":                relsRoot,
		"xl/workbook.xml":            xmlHead + `<workbook ` + nsMain + `>` + wbPr + `<sheets><sheet name="Hộ" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": fmt.Sprintf(relsWbFmt, "/xl/strings.xml"),
		"xl/strings.xml":             xmlHead + `<sst ` + nsMain + `>` + strings + `</sst>`,
		"xl/styles.xml": xmlHead + `<styleSheet ` + nsMain + `><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>` +
			`<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>`,
		"xl/worksheets/sheet1.xml": xmlHead + `<worksheet ` + nsMain + `><sheetData>` + sheetData + `</sheetData></worksheet>`,
	})
}

func TestReadXLSXByHand(t *testing.T) {
	strs := `<si><t>Họ tên</t></si><si><r><t>Nguyễn </t></r><r><rPr><b/></rPr><t>Văn</t></r><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>` +
		`<si><t xml:space="preserve">a_x000D_b_x005F_x0041_ &amp; &lt;c&gt;</t></si>`
	data := handWorkbook(`<workbookPr date1904="1"/>`, strs,
		`<row r="2"><c r="A2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c></row>`+
			`<row><c t="s"><v>2</v></c><c t="inlineStr"><is><t>trong ô</t></is></c><c t="str"><f>A1&amp;"x"</f><v>kết quả</v></c></row>`+
			`<row r="5"><c r="A5" t="e"><v>#N/A</v></c><c r="B5" t="d"><v>2025-07-15T00:00:00Z</v></c><c r="C5" s="1"><v>0</v></c><c r="D5" s="2"><v>1</v></c><c r="E5" t="b"><v>1</v></c></row>`+
			`<row r="6"><c r="B6"/><c r="C6" s="1"/></row>`+
			`<row r="7"><c r="AA7"><v>5</v></c></row>`)
	got, err := ReadXLSX(bytes.NewReader(data), "")
	require.NoError(t, err)
	require.Equal(t, "Hộ", got.Name)
	aa := make([]string, 27)
	aa[26] = "5"
	require.Equal(t, [][]string{
		{"Họ tên", "", "Nguyễn Văn"},
		{"a\rb_x0041_ & <c>", "trong ô", "kết quả"},
		{"#N/A", "2025-07-15", "1904-01-01", "1904-01-02", "TRUE"},
		aa,
	}, got.Rows)
	require.Equal(t, []int{2, 3, 5, 7}, got.Lines)
}

// TestReadXLSXBad: damaged and hostile workbooks get an *Error saying what
// to do, never a panic.
func TestReadXLSXBad(t *testing.T) {
	good := handWorkbook("", `<si><t>a</t></si>`, `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)
	tests := []struct {
		name string
		data []byte
		vi   string
	}{
		{"not a zip", []byte("PK\x03\x04 này không phải zip"), "Không đọc được tệp .xlsx"},
		{"truncated", good[:len(good)/2], "Không đọc được tệp .xlsx"},
		{"no workbook: a zip archive", workbookOf(map[string]string{"a.txt": "x"}), "tệp nén (.zip) (trong đó có: a.txt)"},
		{"no workbook", workbookOf(map[string]string{"xl/styles.xml": "<styleSheet/>"}), "Không đọc được tệp .xlsx"},
		{"no sheets", workbookOf(map[string]string{"xl/workbook.xml": `<workbook><sheets/></workbook>`}), "không có trang tính"},
		{"shared string out of range", handWorkbook("", `<si><t>a</t></si>`, `<row r="1"><c r="A1" t="s"><v>7</v></c></row>`), "Không đọc được dòng 1 của trang tính Hộ"},
		{"rows out of order", handWorkbook("", "", `<row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>`), "Không đọc được dòng 4"},
		{"cells out of order", handWorkbook("", "", `<row r="1"><c r="C1"><v>1</v></c><c r="A1"><v>1</v></c></row>`), "Không đọc được dòng 1"},
		{"beyond XFD", handWorkbook("", "", `<row r="1"><c r="XFE1"><v>1</v></c></row>`), "Không đọc được dòng 1"},
		{"broken XML", handWorkbook("", "", `<row r="1"><c r="A1"><v>1</c></row>`), "Không đọc được dòng 1"},
		{"part too large", tooBig(), "quá lớn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "part too large" {
				defer func(was int64) { maxPart = was }(maxPart)
				maxPart = 4096
			}
			_, err := ReadXLSX(bytes.NewReader(tt.data), "")
			var fe *Error
			require.ErrorAs(t, err, &fe)
			require.Contains(t, fe.Message("vi"), tt.vi)
			require.NotEmpty(t, fe.Message("en"))
		})
	}
}

// tooBig is a workbook whose sheet is 10 KB of rows, for a part limit of
// 4 KB.
func tooBig() []byte {
	return handWorkbook("", "", strings.Repeat(`<row><c><v>1</v></c></row>`, 400))
}

// FuzzReadXLSX: any bytes give rows or an *Error, never a panic; lines
// rise, and every cell is valid UTF-8.
func FuzzReadXLSX(f *testing.F) {
	f.Add(handWorkbook(`<workbookPr date1904="1"/>`, `<si><r><t>a</t></r><rPh><t>b</t></rPh></si>`,
		`<row r="2"><c r="B2" t="s"><v>0</v></c><c t="inlineStr"><is><t>c_x000D_</t></is></c><c s="1"><v>45853</v></c><c s="2"><v>1</v></c></row>`))
	f.Add(workbookOf(map[string]string{"xl/workbook.xml": `<workbook><sheets><sheet name="a" r:id="rId1"/></sheets></workbook>`}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadXLSX(bytes.NewReader(data), "")
		requireSound(t, s, err)
	})
}

// BenchmarkReadXLSX: a list of 26,000 households (as a stream writer
// saves it: the size the import figure of issue 20 uses), read by this
// reader and by excelize's, in the same run.
func BenchmarkReadXLSX(b *testing.B) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	require.NoError(b, err)
	require.NoError(b, sw.SetRow("A1", []any{"Họ và tên chủ hộ", "Ấp", "Địa chỉ", "SĐT", "Số nhân khẩu", "Ngày đăng ký"}))
	for i := 2; i <= 26001; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		require.NoError(b, sw.SetRow(cell, []any{fmt.Sprintf("Nguyễn Văn Hộ %d", i), "Ấp Tân Thành",
			fmt.Sprintf("Số %d, tổ %d, ấp Tân Thành", i, i%20), fmt.Sprintf("09%08d", i), i%7 + 1, 45853 + i%300}))
	}
	require.NoError(b, sw.Flush())
	var buf bytes.Buffer
	require.NoError(b, f.Write(&buf))
	data := buf.Bytes()
	b.Run("hamlet", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			s, err := ReadXLSX(bytes.NewReader(data), "")
			require.NoError(b, err)
			require.Len(b, s.Rows, 26001)
		}
	})
	b.Run("excelize", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			require.Len(b, readWithExcelize(b, data, "").Rows, 26001)
		}
	})
}

// FuzzReadXLSXParts: the worksheet, shared strings and styles as the
// fuzzer makes them, in a sound package, so that its mutations reach the
// XML (a mutated zip mostly fails its checksums): rows or an *Error, never
// a panic.
func FuzzReadXLSXParts(f *testing.F) {
	f.Add([]byte(`<row r="2"><c r="B2" t="s"><v>0</v></c><c t="inlineStr"><is><t>c_x000D_</t></is></c><c s="1"><v>45853</v></c><c s="2"><v>1</v></c></row>`),
		[]byte(`<si><r><t>a</t></r><rPh><t>b</t></rPh></si>`),
		[]byte(`<numFmts><numFmt numFmtId="164" formatCode="0#########"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs>`))
	f.Fuzz(func(t *testing.T, sheet, sst, styles []byte) {
		data := oneSheet(string(styles), string(sst), string(sheet))
		s, err := ReadXLSX(bytes.NewReader(data), "")
		requireSound(t, s, err)
	})
}

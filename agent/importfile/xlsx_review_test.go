package importfile

// Review 30x of the reader (helper; /work/notes/review30x.md): each case
// failed on the reader as first written.

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// D1: a phone typed as a number in a format that shows its leading zero
// other than "0000000000" ("0#########", "\"0\"#########", "\\0#########",
// "0000000000;@") reads without the zero (912345678), which
// schema.NormalizePhone refuses; excelize (the old reader) read 0912345678.
func TestReadXLSXReviewPhoneFormats(t *testing.T) {
	for _, code := range []string{`0#########`, `"0"#########`, `\0#########`, `0000000000;@`, `[$-42A]0000000000`} {
		f := excelize.NewFile()
		sh := f.GetSheetName(0)
		require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"Họ và tên chủ hộ", "SĐT"}))
		require.NoError(t, f.SetSheetRow(sh, "A2", &[]any{"Đỗ Thị Hạnh", 912345678}))
		styled(t, f, sh, "B2", &excelize.Style{CustomNumFmt: ptr(code)})
		data := saved(t, f)
		got, err := ReadXLSX(bytes.NewReader(data), "")
		require.NoError(t, err)
		old := readWithExcelize(t, data, "")
		if old.Rows[1][1] != "0912345678" || got.Rows[1][1] != "0912345678" {
			t.Errorf("format %s: excelize %q, ReadXLSX %q", code, old.Rows[1][1], got.Rows[1][1])
		}
	}
}

// D2: one value in column XFD per row makes the reader keep 16,384 strings
// (256 KiB) per row: a 4 KB file costs about 250 MiB, MaxRows such rows
// (a 2.6 MB file) 245 GiB. excelize padded the same way; MaxRows does not
// bound it.
func TestReadXLSXReviewFarRightMemory(t *testing.T) {
	const n = 1000
	data := farRight(n, true, true)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err := ReadXLSX(bytes.NewReader(data), "")
	runtime.ReadMemStats(&m1)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("%d-byte file: %d MiB allocated", len(data), alloc>>20)
	require.Less(t, alloc, uint64(160<<20), "a %d-byte workbook made the reader allocate %d MiB", len(data), alloc>>20)
	var fe *Error
	require.ErrorAs(t, err, &fe, "16 million cells are more than the reader takes")
	require.Contains(t, fe.Message("vi"), "chia nhỏ")
}

// D3: empty cells far to the right cost nothing: no row is padded to
// them (the reader first padded each row to XFD and trimmed it again,
// 16,384 steps per 20-byte row).
func TestReadXLSXReviewFarRightEmptyCells(t *testing.T) {
	s, err := ReadXLSX(bytes.NewReader(farRight(1000, false, true)), "")
	require.NoError(t, err)
	require.Empty(t, s.Rows)
	allocs := testing.AllocsPerRun(3, func() { _, _ = ReadXLSX(bytes.NewReader(farRight(1000, false, true)), "") })
	near := testing.AllocsPerRun(3, func() {
		_, _ = ReadXLSX(bytes.NewReader(oneSheet("", "", strings.Repeat(`<row><c r="A1"/></row>`, 1000))), "")
	})
	require.Less(t, allocs, 2*near, "a far empty cell costs as much as a near one")
}

// D4: part names are case-insensitive in OPC (ECMA-376 part 2); files with
// xl/SharedStrings.xml (while the relationship says sharedStrings.xml)
// are known from several writers; excelize mapped that name, Excel and
// LibreOffice open them. The reader fails: "shared string not in the
// workbook". Likewise a backslash in a relationship target or zip name,
// which excelize turned into a slash.
func TestReadXLSXReviewPartNames(t *testing.T) {
	for _, tc := range []struct{ name, entry, target string }{
		{"SharedStrings.xml entry", "xl/SharedStrings.xml", "worksheets/sheet1.xml"},
		{"backslash zip name", "xl\\sharedStrings.xml", "worksheets/sheet1.xml"},
		{"backslash target", "xl/sharedStrings.xml", "worksheets\\sheet1.xml"},
	} {
		data := pkg{
			wbInner: `<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>`,
			rels:    fmt.Sprintf(relWs, "rId1", tc.target) + relSST,
			sheets:  map[string]string{"xl/worksheets/sheet1.xml": `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`},
			extra:   map[string]string{tc.entry: xmlHead + `<sst ` + nsMain + `><si><t>Họ tên</t></si></sst>`},
		}.bytes()
		old, err := excelizeRead(data, "")
		require.NoError(t, err, tc.name)
		require.Equal(t, [][]string{{"Họ tên"}}, old.Rows, tc.name)
		got, err := ReadXLSX(bytes.NewReader(data), "")
		require.NoError(t, err, tc.name)
		require.Equal(t, old.Rows, got.Rows, tc.name)
	}
}

// D5: readStyles takes every <numFmt> in styles.xml, also those of
// differential formats (<dxfs>, conditional formatting and table columns),
// whose ids Excel does not keep apart from the cell formats' (Excel writes
// e.g. <dxf><numFmt numFmtId="19" formatCode="m/d/yyyy"/></dxf>). A dxf
// format with a cell format's id replaces it: a date reads as its serial.
func TestReadXLSXReviewDxfNumFmt(t *testing.T) {
	st := `<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>` +
		`<dxfs count="1"><dxf><numFmt numFmtId="164" formatCode="0.00"/></dxf></dxfs>`
	data := oneSheet(st, "", `<row r="1"><c r="A1" s="1"><v>45853</v></c></row>`)
	old, err := excelizeRead(data, "")
	require.NoError(t, err)
	require.Equal(t, "15/07/2025", old.Rows[0][0], "excelize reads the cell format, not the dxf's")
	got, err := ReadXLSX(bytes.NewReader(data), "")
	require.NoError(t, err)
	require.Equal(t, "2025-07-15", got.Rows[0][0])
}

// D6: a cell the reader cannot read (here a reference beyond XFD in row
// 57) was reported by the old reader as "Không đọc được dòng 57 của trang
// tính Hộ."; the new message names no row (the row is only in Err, which
// the CLI does not print: env.exit prints MessageOf = Message). The same
// for every new refusal (shared string out of range, cells out of order,
// broken XML): none cites its row.
func TestReadXLSXReviewErrorCitesRow(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="57"><c r="XFE57"><v>9</v></c></row>`
	data := handWorkbook("", `<si><t>a</t></si>`, rows)
	_, err := ReadXLSX(bytes.NewReader(data), "")
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.Contains(t, fe.Message("vi"), "57", "message: %q", fe.Message("vi"))
	require.Contains(t, fe.Message("en"), "57", "message: %q", fe.Message("en"))
}

// D7: the default sheet is not excelize's GetActiveSheetIndex: an activeTab
// past the last sheet read the first sheet (now the last), and of several
// workbookViews excelize took the first (now the last).
func TestReadXLSXReviewActiveSheet(t *testing.T) {
	two := func(views string) []byte {
		return pkg{
			wbInner: views + `<sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="2" r:id="rId2"/></sheets>`,
			rels:    fmt.Sprintf(relWs, "rId1", "worksheets/sheet1.xml") + fmt.Sprintf(relWs, "rId2", "worksheets/sheet2.xml"),
			sheets: map[string]string{"xl/worksheets/sheet1.xml": `<row r="1"><c r="A1"><v>1</v></c></row>`,
				"xl/worksheets/sheet2.xml": `<row r="1"><c r="A1"><v>2</v></c></row>`},
		}.bytes()
	}
	for _, views := range []string{
		`<bookViews><workbookView activeTab="5"/></bookViews>`,
		`<bookViews><workbookView activeTab="1"/><workbookView activeTab="0"/></bookViews>`,
	} {
		data := two(views)
		old, err := excelizeRead(data, "")
		require.NoError(t, err)
		got, err := ReadXLSX(bytes.NewReader(data), "")
		require.NoError(t, err)
		require.Equal(t, old.Name, got.Name, views)
	}
}

// D8: a number in a cell formatted as Text (49 or "@", a phone or ID
// column formatted Text after the numbers were typed) reads as the raw
// <v> text, not as General like every other format and like excelize:
// 0.30000000000000004, 1E-7.
func TestReadXLSXReviewTextFormatNumbers(t *testing.T) {
	st := `<cellXfs><xf numFmtId="0"/><xf numFmtId="49" applyNumberFormat="1"/></cellXfs>`
	for _, v := range []string{"0.30000000000000004", "1E-7"} {
		data := oneSheet(st, "", `<row r="1"><c r="A1" s="1"><v>`+v+`</v></c></row>`)
		old, err := excelizeRead(data, "")
		require.NoError(t, err)
		got, err := ReadXLSX(bytes.NewReader(data), "")
		require.NoError(t, err)
		require.Equal(t, old.Rows, got.Rows, v)
	}
}

// D9: "any date format, built-in or custom, reads YYYY-MM-DD" - except a
// custom one with fractional seconds: dateFormat stops at the first '0'.
func TestReadXLSXReviewDateWithFractionalSeconds(t *testing.T) {
	for _, code := range []string{`dd/mm/yyyy hh:mm:ss.000`, `yyyy-mm-dd hh:mm:ss.0`} {
		st := `<numFmts><numFmt numFmtId="164" formatCode="` + code + `"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>`
		got, err := ReadXLSX(bytes.NewReader(oneSheet(st, "", `<row r="1"><c r="A1" s="1"><v>45853.75</v></c></row>`)), "")
		require.NoError(t, err)
		require.Equal(t, "2025-07-15 18:00:00", got.Rows[0][0], code)
	}
}

// D10: RawToken does not check that end tags match, so a worksheet with a
// <v> closed by </c> reads without error and wrong: row 2's cell joins row
// 1, line 2 disappears. TestReadXLSXBad's "broken XML" case passes only
// because its document then ends inside the row (EOF).
func TestReadXLSXReviewMismatchedTags(t *testing.T) {
	data := handWorkbook("", "", `<row r="1"><c r="A1"><v>1</c></row><row r="2"><c r="B2"><v>2</v></c></row>`)
	s, err := ReadXLSX(bytes.NewReader(data), "")
	if err == nil {
		t.Errorf("mismatched tags read as %q lines %v", s.Rows, s.Lines)
	}
}

// D11: an XML part declaring another encoding than UTF-8 (as some older
// generators write) fails; excelize read it through a charset reader.
func TestReadXLSXReviewDeclaredEncoding(t *testing.T) {
	data := pkg{
		wbInner: `<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>`,
		rels:    fmt.Sprintf(relWs, "rId1", "worksheets/sheet1.xml") + relSST,
		sheets:  map[string]string{"xl/worksheets/sheet1.xml": `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`},
		extra:   map[string]string{"xl/sharedStrings.xml": `<?xml version="1.0" encoding="ISO-8859-1"?><sst ` + nsMain + "><si><t>caf\xe9</t></si></sst>"},
	}.bytes()
	old, err := excelizeRead(data, "")
	require.NoError(t, err)
	got, err := ReadXLSX(bytes.NewReader(data), "")
	require.NoError(t, err)
	require.Equal(t, old.Rows, got.Rows)
}

package importfile

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// A worksheet read in pieces, one a core, gives exactly the rows and
// line numbers of the one pass: text, numbers, dates in a date format,
// empty cells, rows left out, rows far apart; and the one pass still
// reads what the pieces cannot (rows without their numbers).
func TestAWorksheetReadInPiecesEqualsTheOnePass(t *testing.T) {
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	require.NoError(t, err)
	sw, err := f.NewStreamWriter(sh)
	require.NoError(t, err)
	require.NoError(t, sw.SetRow("A1", []any{"Họ và tên chủ hộ", "Ấp", "Địa chỉ", "SĐT", "Số nhân khẩu", "Ngày đăng ký", "Ghi chú"}))
	line := 2
	for i := 0; i < 30000; i++ {
		line += 1 + i%3/2 // a row left out now and then
		cell, _ := excelize.CoordinatesToCellName(1, line)
		row := []any{fmt.Sprintf("Nguyễn Văn Hộ %d", i), "Ấp Tân Thành", fmt.Sprintf("Số %d, tổ %d <&> \"x\"", i, i%20),
			fmt.Sprintf("09%08d", i), i%7 + 1, excelize.Cell{StyleID: date, Value: 45853 + i%300}, nil}
		if i%11 == 0 {
			row[6] = 3.25 * float64(i)
		}
		if i%13 == 0 {
			row[2] = nil // an empty cell inside the row
		}
		if i%17 == 0 {
			row[6] = "ERRCELL" // made an error value (#N/A) below
		}
		require.NoError(t, sw.SetRow(cell, row))
	}
	require.NoError(t, sw.SetRow(fmt.Sprintf("C%d", line+500), []any{"xa cuối"}))
	require.NoError(t, sw.Flush())
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))

	wb, ws, err := openWorkbook(bytes.NewReader(buf.Bytes()), "")
	require.NoError(t, err)
	part, err := wb.part(ws.target)
	require.NoError(t, err)
	require.Contains(t, string(part), `t="inlineStr"><is><t>ERRCELL</t></is>`)
	part = bytes.ReplaceAll(part, []byte(`t="inlineStr"><is><t>ERRCELL</t></is>`), []byte(`t="e"><f>VLOOKUP(A1,B:C,2,0)</f><v>#N/A</v>`))
	one := &Sheet{Name: ws.name}
	_, _, err = wb.scanRows(newXMLReader(part), one, false)
	require.NoError(t, err)
	require.Len(t, one.Rows, 30002)
	require.Len(t, one.Errors, (30000+16)/17, "the error cells, each with its row and column")
	for _, e := range one.Errors {
		require.Equal(t, CellError{Row: e.Row, Col: 6, Value: "#N/A"}, e)
		require.Equal(t, "#N/A", one.Rows[e.Row][6])
	}
	for _, n := range []int{2, 3, 8} {
		pieces := wb.readPieces(ws, part, n)
		require.NotNil(t, pieces, "%d pieces: the worksheet (%d bytes) was read in one pass", n, len(part))
		require.Equal(t, one.Rows, pieces.Rows, "%d pieces", n)
		require.Equal(t, one.Lines, pieces.Lines, "%d pieces", n)
		require.Equal(t, one.Errors, pieces.Errors, "%d pieces", n)
	}
	got, err := ReadXLSX(bytes.NewReader(buf.Bytes()), "") // the workbook as written, ERRCELL text
	require.NoError(t, err)
	require.Empty(t, got.Errors)
	for _, e := range one.Errors {
		require.Equal(t, "ERRCELL", got.Rows[e.Row][e.Col])
		got.Rows[e.Row][e.Col] = "#N/A"
	}
	require.Equal(t, one.Rows, got.Rows)

	// Rows without their numbers: the pieces cannot count; the one pass does.
	unnumbered := bytes.ReplaceAll(part, []byte(`<row r="`), []byte(`<row x="`))
	require.Nil(t, wb.readPieces(ws, unnumbered, 4))
}

// piecesRows is rows from to of a worksheet, inline text, numbered.
func piecesRows(from, to int) string {
	var sb strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&sb, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>hộ %07d</t></is></c></row>`, i, i, i)
	}
	return sb.String()
}

// readAs reads a one-worksheet package whose worksheet part is part, with
// procs cores (1: the one pass), as what a test can compare.
func readAs(t *testing.T, part string, procs int) string {
	t.Helper()
	data := pkg{
		wbInner: `<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>`,
		rels:    fmt.Sprintf(relWs, "rId1", "worksheets/sheet1.xml"),
		extra:   map[string]string{"xl/worksheets/sheet1.xml": part},
	}.bytes()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	s, err := ReadXLSX(bytes.NewReader(data), "")
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(len(s.Rows), s.Rows[:min(2, len(s.Rows))], s.Lines[:min(3, len(s.Lines))])
}

// What the pieces read must be what the one pass reads, or they leave
// the part to it, in worksheets damaged or written oddly around and
// between the rows (review 41, helper 91: each of these read differently).
func TestOddWorksheetsReadInPiecesAsInOnePass(t *testing.T) {
	head := xmlHead + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
	rows := piecesRows(1, 40000)
	// An empty row at the split whose number repeats the one before.
	split := head + `<sheetData>` + rows + `</sheetData></worksheet>`
	{
		b := []byte(split)
		first, end := rowTag(b, 0), bytes.LastIndex(b, []byte("</sheetData>"))
		at := rowTag(b, first+(end-first)/2)
		var k int
		_, err := fmt.Sscanf(split[at:], `<row r="%d"`, &k)
		require.NoError(t, err)
		old := fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>hộ %07d</t></is></c></row>`, k, k, k)
		repl := fmt.Sprintf(`<row r="%d"`, k-1)
		repl += strings.Repeat(" ", len(old)-len(repl)-2) + "/>"
		require.True(t, strings.HasPrefix(split[at:], old))
		split = split[:at] + repl + split[at+len(old):]
	}
	for name, part := range map[string]string{
		"cut after the rows":        head + `<sheetData>` + rows + `</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/>`,
		"a wrong tag before them":   head + `<sheetViews></sheetPr><sheetData>` + rows + `</sheetData></worksheet>`,
		"a row after </sheetData>":  head + `<sheetData>` + rows + `</sheetData><extLst><ext uri="x"><row r="50000" xmlns="urn:x"><c t="inlineStr"><is><t>extra</t></is></c></row></ext></extLst></worksheet>`,
		"a directive holding a row": head + `<sheetData><!X "<row r='1'><c t='inlineStr'><is><t>ghost</t></is></c></row>">` + piecesRows(2, 40000) + `</sheetData></worksheet>`,
		"an empty row out of order": split,
		"sound":                     head + `<sheetData>` + rows + `</sheetData></worksheet>`,
		// review 41, helper 92
		"a row in the declaration": `<?xml version="1.0" x="<row r='1'><c t='inlineStr'><is><t>ghost</t></is></c></row>"?>` + piecesRows(2, 40000) + `</sheetData>?>`,
	} {
		require.Greater(t, len(part), 2<<20, name)
		assert.Equal(t, readAs(t, part, 1), readAs(t, part, 2), name)
	}
}

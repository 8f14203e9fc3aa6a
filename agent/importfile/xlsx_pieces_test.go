package importfile

import (
	"bytes"
	"fmt"
	"testing"

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
	one := &Sheet{Name: ws.name}
	require.NoError(t, wb.scanRows(newXMLReader(part), one, false))
	require.Len(t, one.Rows, 30002)
	for _, n := range []int{2, 3, 8} {
		pieces := wb.readPieces(ws, part, n)
		require.NotNil(t, pieces, "%d pieces: the worksheet (%d bytes) was read in one pass", n, len(part))
		require.Equal(t, one.Rows, pieces.Rows, "%d pieces", n)
		require.Equal(t, one.Lines, pieces.Lines, "%d pieces", n)
	}
	got, err := ReadXLSX(bytes.NewReader(buf.Bytes()), "")
	require.NoError(t, err)
	require.Equal(t, one.Rows, got.Rows)

	// Rows without their numbers: the pieces cannot count; the one pass does.
	unnumbered := bytes.ReplaceAll(part, []byte(`<row r="`), []byte(`<row x="`))
	require.Nil(t, wb.readPieces(ws, unnumbered, 4))
}

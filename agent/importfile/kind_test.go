package importfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// zipOf is a zip package of the given parts.
func zipOf(t *testing.T, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		require.NoError(t, err)
		_, err = w.Write([]byte(parts[i+1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestReadFileSaysWhatKindOfFileItIs: a file of another kind than a
// spreadsheet (whatever its name) is named for what it is, with what to
// do, not called a damaged or password-protected .xlsx, nor text in an
// old encoding.
func TestReadFileSaysWhatKindOfFileItIs(t *testing.T) {
	tests := []struct {
		name, file string
		data       []byte
		vi, en     string
	}{
		{"ods", "ds.ods", zipOf(t, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", "content.xml", "<x/>"), ".ods", "LibreOffice"},
		{"ods named xlsx", "ds.xlsx", zipOf(t, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", "content.xml", "<x/>"), ".ods", "Save As"},
		{"odt", "ds.odt", zipOf(t, "mimetype", "application/vnd.oasis.opendocument.text"), "LibreOffice", "document"},
		{"docx", "ds.docx", zipOf(t, "[Content_Types].xml", "<x/>", "word/document.xml", "<x/>"), "Word", "Word"},
		{"pptx", "ds.pptx", zipOf(t, "ppt/presentation.xml", "<x/>"), "PowerPoint", "PowerPoint"},
		{"zip", "ds.zip", zipOf(t, "ds.csv", "a,b\n"), "giải nén", "Extract"},
		{"pdf", "ds.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "PDF", "PDF"},
		{"png", "ds.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), "ảnh", "picture"},
		{"jpeg named csv", "ds.csv", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "ảnh", "picture"},
		{"empty", "ds.xlsx", nil, "trống", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(p, tt.data, 0o600))
			_, err := ReadFile(p, "")
			var fe *Error
			require.True(t, errors.As(err, &fe), "%v", err)
			require.Contains(t, fe.VI, tt.vi)
			require.Contains(t, fe.EN, tt.en)
			require.NotContains(t, fe.VI, "mật khẩu")
			require.NotContains(t, fe.VI, "TCVN3")
		})
	}
}

// TestReadFileOfAFolder: a folder is named as one, with the lists in it.
func TestReadFileOfAFolder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ds.xlsx"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "anh.jpg"), nil, 0o600))
	_, err := ReadFile(dir, "")
	var fe *Error
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Contains(t, fe.VI, "thư mục")
	require.Contains(t, fe.VI, filepath.Join(dir, "ds.xlsx"))
	require.NotContains(t, fe.VI, "anh.jpg")
	require.Contains(t, fe.EN, "folder")
}

// TestReadXLSXFormulaWithoutItsValue: a formula saved without its value
// (no <v>, as excelize writes it; an empty <v/> that is no text, as
// openpyxl writes it) is marked NoValue, its row kept even when it holds
// nothing else; a formula whose value is the empty text (t="str", as
// Excel writes it) is an empty cell, and one with its value reads it.
func TestReadXLSXFormulaWithoutItsValue(t *testing.T) {
	b := handWorkbook("", "", `<row r="1"><c r="A1" t="str"><v>Họ tên</v></c></row>`+
		`<row r="2"><c r="A2" t="str"><f>"An"</f><v>An</v></c><c r="B2"><f>"0"&amp;E2</f></c></row>`+
		`<row r="3"><c r="C3"><f>1+1</f><v/></c></row>`+
		`<row r="4"><c r="A4" t="str"><f>""</f><v></v></c><c r="B4"><v>5</v></c></row>`)
	s, err := ReadXLSX(bytes.NewReader(b), "")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"Họ tên"}, {"An"}, nil, {"", "5"}}, s.Rows)
	require.Equal(t, []int{1, 2, 3, 4}, s.Lines)
	require.Equal(t, []CellError{{Row: 1, Col: 1, NoValue: true}, {Row: 2, Col: 2, NoValue: true}}, s.Errors)
}

package importfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Sheet is a file's rows of cells, each with its line number as a person
// finds it (the row number in Excel, the line in a text editor).
type Sheet struct {
	Rows  [][]string
	Lines []int
	// Name is the worksheet read (XLSX), "" for CSV.
	Name string
}

// MaxRows bounds what one file may hold: a commune's list is some
// thousands of rows; beyond this it is not a household list.
const MaxRows = 1_000_000

// Error is a file that cannot be read, with what to do in both languages.
type Error struct {
	VI, EN string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.EN + ": " + e.Err.Error()
	}
	return e.EN
}

func (e *Error) Unwrap() error { return e.Err }

// Message is the text for the person importing.
func (e *Error) Message(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return e.EN
	}
	return e.VI
}

// ReadFile reads a .csv, .txt/.tsv or .xlsx file; sheet names a worksheet
// of a workbook ("" for the first).
func ReadFile(path, sheet string) (*Sheet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{VI: "Không mở được tệp " + path + ". Hãy kiểm tra đường dẫn.", EN: "Cannot open " + path + ". Check the path.", Err: err}
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case n == 4 && bytes.Equal(head, []byte("PK\x03\x04")):
		return ReadXLSX(f, sheet)
	case ext == ".xls":
		return nil, &Error{
			VI: "Tệp .xls (Excel 97-2003) chưa đọc được. Hãy mở tệp trong Excel hoặc LibreOffice và lưu lại dạng .xlsx hoặc CSV UTF-8.",
			EN: "An .xls file (Excel 97-2003) cannot be read. Open it in Excel or LibreOffice and save it as .xlsx or CSV UTF-8."}
	case ext == ".xlsx":
		return nil, &Error{VI: "Tệp " + path + " không phải tệp .xlsx hợp lệ (có thể bị hỏng).", EN: path + " is not a valid .xlsx file (it may be damaged)."}
	}
	return ReadCSV(f)
}

// ReadCSV reads delimited text: UTF-8 (with or without a byte-order mark)
// or UTF-16 (Excel's "Unicode text"), separated by commas, semicolons (a
// Vietnamese-locale Excel) or tabs, whichever the first line uses most.
func ReadCSV(r io.Reader) (*Sheet, error) {
	br := bufio.NewReader(r)
	bom, _ := br.Peek(3)
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3) //nolint:errcheck // peeked
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}), bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		in = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder())
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, &Error{
			VI: "Tệp không phải chữ UTF-8 (có thể là bảng mã cũ như TCVN3 hay VNI). Hãy lưu lại tệp dạng \"CSV UTF-8\" trong Excel, hoặc dạng .xlsx.",
			EN: "The file is not UTF-8 text (perhaps an old encoding such as TCVN3 or VNI). Save it again as \"CSV UTF-8\" in Excel, or as .xlsx."}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	s := &Sheet{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := cr.FieldPos(0)
			return nil, &Error{
				VI:  fmt.Sprintf("Dòng %d của tệp không đọc được (dấu ngoặc kép không khớp?). Hãy sửa dòng đó rồi nhập lại.", line),
				EN:  fmt.Sprintf("Line %d of the file cannot be read (unbalanced quotes?). Fix that line and import again.", line),
				Err: err}
		}
		if len(s.Rows) == MaxRows {
			return nil, tooMany()
		}
		line, _ := cr.FieldPos(0)
		s.Rows = append(s.Rows, rec)
		s.Lines = append(s.Lines, line)
	}
	return s, nil
}

func tooMany() error {
	return &Error{VI: fmt.Sprintf("Tệp có hơn %d dòng: hãy chia nhỏ tệp.", MaxRows), EN: fmt.Sprintf("The file has more than %d rows: split it.", MaxRows)}
}

// delimiter picks the separator the first line uses most, outside quotes.
func delimiter(data []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, b := range data {
		if b == '\n' && !quoted {
			break
		}
		switch b {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				counts[rune(b)]++
			}
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

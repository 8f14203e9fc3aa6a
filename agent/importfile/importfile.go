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

	"github.com/hamlet-vn/hamlet/internal/officefile"
)

// Sheet is a file's rows of cells, each with its line number as a person
// finds it (the row number in Excel, the line in a text editor).
type Sheet struct {
	Rows  [][]string
	Lines []int
	// Name is the worksheet read (XLSX), "" for CSV.
	Name string
	// Errors are the cells showing an Excel error value (#N/A, #REF!, a
	// formula that failed) and the formulas saved without their value, in
	// row order: their text is no value to import (XLSX only).
	Errors []CellError
}

// CellError is a cell showing an Excel error value, or a formula saved
// without its value.
type CellError struct {
	Row, Col int    // indexes into Rows and the row's cells
	Value    string // as Excel shows it, "#N/A"; "" when NoValue
	// NoValue: the cell is a formula the file holds without its value (a
	// workbook a program wrote and Excel never opened); it reads as "".
	NoValue bool
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
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, folderError(path)
	} else if err == nil && st.Size() == 0 {
		return nil, &Error{
			VI: "Tệp " + path + " trống (0 byte): không có gì để nhập. Hãy kiểm tra đã chọn đúng tệp, và tệp đã được lưu (hoặc tải về) đầy đủ.",
			EN: path + " is empty (0 bytes): there is nothing to import. Check that it is the right file, and that it was saved (or downloaded) in full."}
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	if bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}) && officefile.Of(f) == officefile.Encrypted {
		return nil, &Error{
			VI: "Tệp " + path + " là bảng tính Excel có đặt mật khẩu, nên không đọc được (tệp không bị hỏng). Hãy mở tệp trong Excel bằng mật khẩu của nó, lưu lại không có mật khẩu (Tệp > Thông tin > Bảo vệ Sổ làm việc > Mã hóa bằng Mật khẩu: xóa mật khẩu, bấm OK, rồi lưu), rồi nhập lại tệp đó.",
			EN: path + " is a password-protected Excel workbook, so it cannot be read (it is not damaged). Open it in Excel with its password, save it without a password (File > Info > Protect Workbook > Encrypt with Password: clear the password, OK, then save), and import it again."}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return ReadXLSX(f, sheet)
	case bytes.HasPrefix(head, []byte("%PDF")):
		return nil, kindError("một tệp PDF", "a PDF file",
			"Không đọc được bảng trong tệp PDF: hãy dùng tệp Excel gốc của danh sách, hoặc chép bảng sang Excel, "+saveAs,
			"A table inside a PDF cannot be read: use the list's original Excel file, or copy the table into Excel, "+saveAsEN)
	case bytes.HasPrefix(head, []byte("\x89PNG")), bytes.HasPrefix(head, []byte("\xFF\xD8\xFF")):
		return nil, kindError("một ảnh (PNG/JPEG)", "a picture (PNG/JPEG)",
			"Ảnh chụp danh sách không nhập được: cần tệp Excel hoặc CSV của danh sách; nếu chỉ có ảnh, hãy gõ danh sách vào Excel, "+saveAs,
			"A picture of a list cannot be imported: it takes the list's Excel or CSV file; if there is only the picture, type the list into Excel, "+saveAsEN)
	case ext == ".xls":
		return nil, &Error{
			VI: "Tệp .xls (Excel 97-2003) chưa đọc được. Hãy mở tệp trong Excel hoặc LibreOffice và lưu lại dạng .xlsx hoặc CSV UTF-8.",
			EN: "An .xls file (Excel 97-2003) cannot be read. Open it in Excel or LibreOffice and save it as .xlsx or CSV UTF-8."}
	case ext == ".xlsx":
		return nil, &Error{VI: "Tệp " + path + " không phải tệp .xlsx hợp lệ (có thể bị hỏng).", EN: path + " is not a valid .xlsx file (it may be damaged)."}
	}
	return ReadCSV(f)
}

// kindError: the file is of another kind than a spreadsheet Hamlet reads
// (what is a Vietnamese and an English noun phrase, "một tệp PDF"), and
// what to do.
func kindError(whatVI, whatEN, doVI, doEN string) error {
	return &Error{VI: "Tệp là " + whatVI + ", không phải bảng tính. " + doVI, EN: "The file is " + whatEN + ", not a spreadsheet. " + doEN}
}

// What to do with a table in a document, or in a PDF or a picture.
const (
	copyTable   = "Hãy chép bảng trong đó sang Excel, " + saveAs
	copyTableEN = "Copy its table into Excel, " + saveAsEN
	saveAs      = "lưu dạng .xlsx hoặc \"CSV UTF-8\", rồi nhập tệp đó."
	saveAsEN    = "save it as .xlsx or \"CSV UTF-8\", and import that file."
)

// folderError: the path given for the file is a folder. It names the
// lists the folder holds, so that the next try can be the right one.
func folderError(dir string) error {
	var lists []string
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".xlsx", ".csv", ".txt", ".tsv", ".xls":
				if !e.IsDir() && len(lists) < 5 {
					lists = append(lists, filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	vi := "\"" + dir + "\" là một thư mục, không phải một tệp. Hãy chỉ tệp danh sách (.xlsx hoặc .csv) trong thư mục đó."
	en := "\"" + dir + "\" is a folder, not a file. Give the list's file (.xlsx or .csv) in that folder."
	if len(lists) > 0 {
		vi += " Trong thư mục có: " + strings.Join(lists, ", ") + "."
		en += " The folder holds: " + strings.Join(lists, ", ") + "."
	}
	return &Error{VI: vi, EN: en}
}

// ReadCSV reads delimited text: UTF-8 (with or without a byte-order mark)
// or UTF-16 (Excel's "Unicode text"), separated by commas, semicolons (a
// Vietnamese-locale Excel) or tabs, whichever the first lines use
// most consistently (delimiter).
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
	// Line ends converted twice (a CRLF file through unix2dos, or FTP in
	// ASCII mode) read as the CRLF they were.
	data = bytes.ReplaceAll(data, []byte("\r\r\n"), []byte("\r\n"))
	comma := delimiter(data)
	if err := unclosedQuote(data, comma); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// Lazily: a quote inside a cell that does not begin with one (Số 1
	// "A") is text, as Excel reads it. A quoted cell that never closes
	// would then take the rest of the file: unclosedQuote refuses it first.
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

// unclosedQuote finds a cell that opens with a quote and never closes it,
// reading as the lazy csv.Reader reads (a quote closes a quoted cell when a
// separator, a line's end or the file's end follows it; "" is a quote):
// such a cell would swallow every following line, rows lost without a
// word. The error names the line where the quote opened.
func unclosedQuote(data []byte, comma rune) error {
	line, start := 1, true // start: at the beginning of a cell
	for i := 0; i < len(data); i++ {
		b := data[i]
		switch {
		case b == '\n':
			line, start = line+1, true
			continue
		case rune(b) == comma:
			start = true
			continue
		case b != '"' || !start:
			start = false
			continue
		}
		open, at, closed := line, i, false
		for i++; i < len(data) && !closed; i++ {
			switch data[i] {
			case '\n':
				line++
			case '"':
				switch {
				case i+1 < len(data) && data[i+1] == '"':
					i++
				case i+1 == len(data) || rune(data[i+1]) == comma || data[i+1] == '\n' ||
					data[i+1] == '\r' && (i+2 == len(data) || data[i+2] == '\n'):
					// As the reader closes a quoted cell: a lone CR (line ends
					// converted twice, CR CR LF) does not close it.
					closed = true
				}
			}
		}
		if !closed {
			return unclosedError(open, string(data[at:min(at+40, lineEnd(data, at))]))
		}
		i-- // back on the closing quote: the loop's i++ reaches what follows
		start = false
	}
	return nil
}

// lineEnd is the index of the end of the line holding data[i].
func lineEnd(data []byte, i int) int {
	if j := bytes.IndexAny(data[i:], "\r\n"); j >= 0 {
		return i + j
	}
	return len(data)
}

func unclosedError(line int, cell string) error {
	for !utf8.ValidString(cell) { // cut inside a character
		cell = cell[:len(cell)-1]
	}
	return &Error{
		VI: fmt.Sprintf("Dòng %d của tệp có ô mở dấu ngoặc kép mà không đóng (%s…): mọi dòng sau đó sẽ bị dồn vào ô này. Chưa nhập dòng nào. Hãy thêm dấu ngoặc kép đóng ở cuối ô đó, hoặc xoá dấu ngoặc kép mở, rồi nhập lại.", line, cell),
		EN: fmt.Sprintf("Line %d of the file has a cell that opens a quote and never closes it (%s…): every following line would fold into that cell. Nothing was imported. Add the closing quote at the end of that cell, or remove the opening quote, and import again.", line, cell),
	}
}

func tooMany() error {
	return &Error{VI: fmt.Sprintf("Tệp có hơn %d dòng: hãy chia nhỏ tệp.", MaxRows), EN: fmt.Sprintf("The file has more than %d rows: split it.", MaxRows)}
}

// delimiter picks the separator of a delimited text from its first
// delimiterLines non-blank lines: for each candidate, the count per line
// (outside quotes) that most lines share, non-zero, and on how many lines
// it is; the candidate with the most such lines wins. A title line above
// the table ("DANH SÁCH HỘ, ẤP TÂN THÀNH, XÃ ...") does not decide for the
// table. On a tie, the first line decides, as it alone once did.
func delimiter(data []byte) rune {
	cands := []rune{',', ';', '\t'}
	var lines []map[rune]int
	cur := map[rune]int{}
	quoted, content := false, false
	prev := byte('\n') // the byte before, for where a cell starts
	closed := false    // the byte before closed a quoted run
	end := func() {
		if content {
			lines = append(lines, cur)
		}
		cur, content = map[rune]int{}, false
	}
	for _, b := range data {
		if len(lines) == delimiterLines {
			break
		}
		at, reopen := prev, closed
		prev, closed = b, false
		switch b {
		case '\n':
			if !quoted {
				end()
				continue
			}
		case '"':
			// A quote opens a quoted run only at a cell's start, as the
			// reader takes it (Nhà 21" tôn is text), or right after the
			// quote that closed one ("" inside a quoted cell is a quote);
			// inside one it closes.
			switch {
			case quoted:
				quoted, closed = false, true
			case reopen || at == '\n' || at == ',' || at == ';' || at == '\t':
				quoted = true
			}
		case ',', ';', '\t':
			if !quoted {
				cur[rune(b)]++
			}
		}
		if b != ' ' && b != '\r' && b != '\t' && b != ',' && b != ';' || cur[';']+cur[',']+cur['\t'] > 0 {
			content = true
		}
	}
	if len(lines) < delimiterLines {
		end()
	}
	if len(lines) == 0 {
		return ','
	}
	support := func(d rune) int {
		freq := map[int]int{}
		top := 0
		for _, l := range lines {
			if n := l[d]; n > 0 {
				freq[n]++
				top = max(top, freq[n])
			}
		}
		return top
	}
	best, bestN := rune(0), 0
	tie := false
	for _, d := range cands {
		switch n := support(d); {
		case n > bestN:
			best, bestN, tie = d, n, false
		case n == bestN && n > 0:
			tie = true
		}
	}
	if best != 0 && !tie {
		return best
	}
	best = ','
	for _, d := range cands[1:] {
		if lines[0][d] > lines[0][best] {
			best = d
		}
	}
	return best
}

// delimiterLines is how many non-blank lines delimiter reads.
const delimiterLines = 20

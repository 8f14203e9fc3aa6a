package importfile

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/hamlet-vn/hamlet/internal/officefile"
	"io"
	"math"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/hamlet-vn/hamlet/internal/readall"
)

// The workbook reader. A household list needs a sheet's cells as values,
// not a spreadsheet engine: excelize, which Hamlet used here before, cost
// every hamlet-agent command about 10 ms of package initialisation (its
// formula and locale tables) and decoded each row into structs, 0.7 of
// the 1.9 CPU-seconds an import of 26,000 households took. This reader
// streams the parts it needs (workbook, relationships, shared strings,
// styles, one worksheet) with the XML tokenizer. The server's XLSX export
// still writes with excelize, and the tests compare this reader with it.
//
// Cells read as Excel shows them in the formats household lists use:
// text as typed; numbers in General (and in Text and "0") as Excel's 15
// significant digits; numbers in an integer format with literal text
// ("0#########", "000-000-0000": a phone typed as a number) as the format
// shows them, leading zero included; dates (any date format, built-in or
// custom) as YYYY-MM-DD, with the time when the format shows one, so that
// a list written on a Vietnamese-locale Excel reads the same as any other;
// TRUE and FALSE. A number in any other format ("#,##0", currency,
// percent) reads as its General digits, which is what an importer wants.
// Part names are matched as the format says, without case; parts may
// declare another encoding than UTF-8.

// maxPart bounds one decompressed part: a worksheet of a commune's list
// is some megabytes; beyond this it is a zip bomb. A variable, so that a
// test can lower it.
var maxPart int64 = 256 << 20

// maxCells bounds the cells of the rows read (empty ones within a row
// included): 64 MiB of them. A few values far to the right in many rows
// (column XFD is the 16,384th) would otherwise take gigabytes from a file
// of kilobytes.
const maxCells = 1 << 22

var errPartTooLarge = errors.New("part too large")

type workbook struct {
	zip      map[string]*zip.File // by normalised name (partName)
	date1904 bool
	sheets   []wbSheet
	active   int
	strings  []string
	numFmts  map[int]string // custom formats by id
	xfFmt    []int          // cellXfs: number format id by style index
	strPart  string         // the shared strings' part
	stylPart string         // the styles' part
}

type wbSheet struct{ name, rid, target string }

func xlsxError(err error) error {
	if errors.Is(err, errPartTooLarge) {
		return tooLarge()
	}
	return &Error{VI: "Không đọc được tệp .xlsx (tệp hỏng, hoặc có mật khẩu). Hãy mở và lưu lại trong Excel.", EN: "Cannot read the .xlsx file (damaged, or password-protected). Open and save it again in Excel.", Err: err}
}

// otherKind tells the zip packages that are not workbooks but are taken
// for one: a LibreOffice spreadsheet (.ods) or any OpenDocument file, a
// Word document, a PowerPoint presentation. Each would read as "a damaged
// .xlsx, or one with a password".
func otherKind(kind officefile.Package) error {
	switch kind {
	case officefile.OpenSpreadsheet:
		return &Error{
			VI: "Tệp là bảng tính LibreOffice/OpenOffice (.ods), không phải .xlsx. Hãy mở tệp trong LibreOffice Calc, chọn Tệp → Lưu thành (File → Save As), chọn kiểu \"Excel 2007-365 (.xlsx)\" hoặc \"Văn bản CSV\" (bộ ký tự Unicode UTF-8), rồi nhập tệp mới.",
			EN: "The file is a LibreOffice/OpenOffice spreadsheet (.ods), not an .xlsx. Open it in LibreOffice Calc, choose File → Save As, type \"Excel 2007-365 (.xlsx)\" or \"Text CSV\" (character set Unicode UTF-8), and import the new file."}
	case officefile.OpenDocument:
		return kindError("một tài liệu LibreOffice/OpenOffice (.odt, .odp...)", "a LibreOffice/OpenOffice document (.odt, .odp...)", copyTable, copyTableEN)
	case officefile.WordDocument:
		return kindError("một tài liệu Word (.docx)", "a Word document (.docx)", copyTable, copyTableEN)
	case officefile.Presentation:
		return kindError("một bài trình chiếu PowerPoint (.pptx)", "a PowerPoint presentation (.pptx)", copyTable, copyTableEN)
	}
	return nil
}

// zipError: a zip archive of other files (files, the names it holds),
// named so that the one to take out of it is clear.
func zipError(files []string) error {
	inside, insideEN := "", ""
	if len(files) > 0 {
		if len(files) > 5 {
			files = append(files[:5:5], "…")
		}
		inside, insideEN = " (trong đó có: "+strings.Join(files, ", ")+")", " (it holds: "+strings.Join(files, ", ")+")"
	}
	return kindError("một tệp nén (.zip)"+inside, "a zip archive"+insideEN,
		"Hãy giải nén tệp, rồi nhập tệp .xlsx hoặc .csv bên trong.", "Extract it, then import the .xlsx or .csv file inside.")
}

func tooLarge() error {
	return &Error{VI: "Tệp .xlsx quá lớn để đọc: hãy chia nhỏ tệp (hoặc xoá các ô thừa ở xa bên phải).",
		EN: "The .xlsx file is too large to read: split it (or clear stray cells far to the right)."}
}

// rowError is a worksheet row that cannot be read.
type rowError struct {
	row int
	err error
}

func (e *rowError) Error() string { return fmt.Sprintf("row %d: %v", e.row, e.err) }
func (e *rowError) Unwrap() error { return e.err }

// partName is how a part is looked up: part names are case-insensitive
// (ECMA-376 part 2), and some writers put backslashes in them.
func partName(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, "\\", "/"), "/"))
}

// ReadXLSX reads one worksheet of a workbook (the active one when sheet is
// ""), cells as Excel shows them (see above).
func ReadXLSX(r io.Reader, sheet string) (*Sheet, error) {
	wb, ws, err := openWorkbook(r, sheet)
	if err != nil {
		return nil, err
	}
	return wb.readSheetOf(ws)
}

// openWorkbook reads the package and the parts every worksheet needs
// (workbook, shared strings, styles) and finds the worksheet asked for.
func openWorkbook(r io.Reader, sheet string) (*workbook, *wbSheet, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPart+1))
	if err != nil {
		return nil, nil, xlsxError(err)
	}
	if int64(len(data)) > maxPart {
		return nil, nil, tooLarge()
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, xlsxError(err)
	}
	wb := &workbook{zip: map[string]*zip.File{}, numFmts: map[int]string{}}
	for _, f := range zr.File {
		wb.zip[partName(f.Name)] = f
	}
	kind, files := officefile.PackageOf(zr)
	if err := otherKind(kind); err != nil {
		return nil, nil, err
	}
	if err := wb.readWorkbook(); err != nil {
		if kind == officefile.PlainZip {
			return nil, nil, zipError(files)
		}
		return nil, nil, xlsxError(err)
	}
	if len(wb.sheets) == 0 {
		return nil, nil, &Error{VI: "Tệp .xlsx không có trang tính nào.", EN: "The .xlsx file has no worksheet."}
	}
	var ws *wbSheet
	if sheet == "" {
		// As excelize did: the first view's active tab, else the first.
		if wb.active < 0 || wb.active >= len(wb.sheets) {
			wb.active = 0
		}
		ws = &wb.sheets[wb.active]
	} else {
		names := make([]string, len(wb.sheets))
		for i := range wb.sheets {
			names[i] = wb.sheets[i].name
			if strings.EqualFold(wb.sheets[i].name, sheet) {
				ws = &wb.sheets[i]
			}
		}
		if ws == nil {
			return nil, nil, &Error{VI: fmt.Sprintf("Không có trang tính %q. Các trang tính: %s.", sheet, strings.Join(names, ", ")),
				EN: fmt.Sprintf("No worksheet %q. The worksheets: %s.", sheet, strings.Join(names, ", "))}
		}
	}
	if err := wb.readStrings(); err != nil {
		return nil, nil, xlsxError(err)
	}
	if err := wb.readStyles(); err != nil {
		return nil, nil, xlsxError(err)
	}
	return wb, ws, nil
}

// readSheetOf reads worksheet ws, its errors in words for the person
// importing.
func (wb *workbook) readSheetOf(ws *wbSheet) (*Sheet, error) {
	s, err := wb.readSheet(ws)
	if err != nil {
		var fe *Error
		var re *rowError
		switch {
		case errors.As(err, &fe):
			return nil, err
		case errors.Is(err, errPartTooLarge):
			return nil, tooLarge()
		case errors.As(err, &re):
			return nil, &Error{VI: fmt.Sprintf("Không đọc được dòng %d của trang tính %s. Hãy mở và lưu lại tệp trong Excel.", re.row, ws.name),
				EN: fmt.Sprintf("Cannot read row %d of worksheet %s. Open and save the file again in Excel.", re.row, ws.name), Err: err}
		}
		return nil, &Error{VI: "Không đọc hết được trang tính " + ws.name + ". Hãy mở và lưu lại tệp trong Excel.", EN: "Cannot read all of worksheet " + ws.name + ". Open and save the file again in Excel.", Err: err}
	}
	return s, nil
}

// part opens a part of the package; nil, nil when it is absent.
func (wb *workbook) part(name string) ([]byte, error) {
	f := wb.zip[partName(name)]
	if f == nil {
		return nil, nil
	}
	if f.UncompressedSize64 > uint64(maxPart) {
		return nil, errPartTooLarge
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	// Into a buffer of the size the zip's header gives (one more byte, to
	// see the end without growing): io.ReadAll's doubling cleared and
	// copied a worksheet's tens of megabytes twice over, a tenth of an
	// XLSX import. A header that lies costs only the growth it would have
	// had anyway.
	b, err := readall.Into(make([]byte, 0, min(int64(f.UncompressedSize64), maxPart)+1), io.LimitReader(rc, maxPart+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > maxPart {
		return nil, errPartTooLarge
	}
	return b, nil
}

// xmlReader reads a part's tokens as they are written (no namespace
// translation, the fast path), checking that each end tag closes the
// element open, which the raw tokenizer does not.
type xmlReader struct {
	d     *xml.Decoder
	stack []xml.Name
}

func newXMLReader(b []byte) *xmlReader {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	return &xmlReader{d: d}
}

// charsetReader reads a part declared in another encoding than UTF-8, as
// some older writers save them.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("encoding %q: %w", label, err)
	}
	return enc.NewDecoder().Reader(in), nil
}

func (x *xmlReader) next() (xml.Token, error) {
	tok, err := x.d.RawToken()
	if err != nil {
		if errors.Is(err, io.EOF) && len(x.stack) > 0 {
			return nil, fmt.Errorf("the part ends inside <%s>: %w", x.stack[len(x.stack)-1].Local, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		x.stack = append(x.stack, t.Name)
	case xml.EndElement:
		if n := len(x.stack); n == 0 || x.stack[n-1] != t.Name {
			return nil, fmt.Errorf("</%s> closes no open element of that name", t.Name.Local)
		}
		x.stack = x.stack[:len(x.stack)-1]
	}
	return tok, nil
}

func attr(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// relAttr is an attribute in the relationships namespace (r:id), whatever
// prefix the file gives it.
func relAttr(se xml.StartElement) string {
	for _, a := range se.Attr {
		if a.Name.Local == "id" && a.Name.Space != "" {
			return a.Value
		}
	}
	return ""
}

func isTrue(v string) bool { return v == "1" || v == "true" }

func (wb *workbook) readWorkbook() error {
	wbPath := "xl/workbook.xml"
	if b, err := wb.part("_rels/.rels"); err != nil {
		return err
	} else if b != nil {
		rels, err := readRels(b, "")
		if err != nil {
			return fmt.Errorf("package relationships: %w", err)
		}
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/officeDocument") {
				wbPath = r.target
			}
		}
	}
	b, err := wb.part(wbPath)
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("no workbook part %s", wbPath)
	}
	d := newXMLReader(b)
	views := false
	for {
		tok, err := d.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("workbook: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "workbookPr":
			v, _ := attr(se, "date1904")
			wb.date1904 = isTrue(v)
		case "workbookView":
			if !views {
				views = true
				if v, ok := attr(se, "activeTab"); ok {
					wb.active, _ = strconv.Atoi(v)
				}
			}
		case "sheet":
			name, _ := attr(se, "name")
			wb.sheets = append(wb.sheets, wbSheet{name: name, rid: relAttr(se)})
		}
	}
	dir, file := path.Split(wbPath)
	relsB, err := wb.part(dir + "_rels/" + file + ".rels")
	if err != nil {
		return err
	}
	rels, err := readRels(relsB, dir)
	if err != nil {
		return fmt.Errorf("workbook relationships: %w", err)
	}
	byID := map[string]string{}
	for _, r := range rels {
		byID[r.id] = r.target
		switch {
		case strings.HasSuffix(r.typ, "/sharedStrings"):
			wb.strPart = r.target
		case strings.HasSuffix(r.typ, "/styles"):
			wb.stylPart = r.target
		}
	}
	for i := range wb.sheets {
		wb.sheets[i].target = byID[wb.sheets[i].rid]
	}
	return nil
}

type rel struct{ id, typ, target string }

// readRels reads a relationships part; targets are resolved against dir.
func readRels(b []byte, dir string) ([]rel, error) {
	var out []rel
	d := newXMLReader(b)
	for {
		tok, err := d.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			continue
		}
		var r rel
		r.id, _ = attr(se, "Id")
		r.typ, _ = attr(se, "Type")
		r.target, _ = attr(se, "Target")
		r.target = strings.ReplaceAll(r.target, "\\", "/")
		if mode, _ := attr(se, "TargetMode"); mode == "External" {
			continue
		}
		if strings.HasPrefix(r.target, "/") {
			r.target = strings.TrimPrefix(r.target, "/")
		} else {
			r.target = path.Clean(dir + r.target)
		}
		out = append(out, r)
	}
}

// text gathers the character data of the element just opened (its <t>
// runs, leaving phonetic runs out) up to its end.
func text(d *xmlReader, phonetic string) (string, error) {
	var sb strings.Builder
	depth, inT, skip := 1, 0, 0
	for depth > 0 {
		tok, err := d.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == phonetic:
				skip++
			case t.Name.Local == "t" && skip == 0:
				inT++
			}
		case xml.EndElement:
			depth--
			switch {
			case t.Name.Local == phonetic && skip > 0:
				skip--
			case t.Name.Local == "t" && inT > 0 && skip == 0:
				inT--
			}
		case xml.CharData:
			if inT > 0 {
				sb.Write(t)
			}
		}
	}
	return sb.String(), nil
}

// partOr reads the part the workbook's relationships name, or the usual
// one when they name none that the package holds; nil when neither is.
func (wb *workbook) partOr(name, usual string) ([]byte, error) {
	if wb.zip[partName(name)] == nil {
		name = usual
	}
	return wb.part(name)
}

func (wb *workbook) readStrings() error {
	b, err := wb.partOr(wb.strPart, "xl/sharedStrings.xml")
	if err != nil || b == nil {
		return err
	}
	d := newXMLReader(b)
	for {
		tok, err := d.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("shared strings: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			s, err := text(d, "rPh")
			if err != nil {
				return fmt.Errorf("shared string %d: %w", len(wb.strings), err)
			}
			if len(wb.strings) >= MaxRows*64 {
				return errPartTooLarge
			}
			wb.strings = append(wb.strings, unescapeBSTR(s))
		}
	}
}

func (wb *workbook) readStyles() error {
	b, err := wb.partOr(wb.stylPart, "xl/styles.xml")
	if err != nil || b == nil {
		return err
	}
	d := newXMLReader(b)
	// Number formats of cells only: differential formats (dxfs, for
	// conditional formatting) have numFmt elements too, with ids that may
	// be a cell format's.
	inXfs, inFmts := false, false
	for {
		tok, err := d.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("styles: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmts":
				inFmts = len(d.stack) == 2 // in styleSheet
			case "numFmt":
				if !inFmts {
					break
				}
				id, _ := attr(t, "numFmtId")
				code, _ := attr(t, "formatCode")
				if n, err := strconv.Atoi(id); err == nil {
					wb.numFmts[n] = code
				}
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					id, _ := attr(t, "numFmtId")
					n, _ := strconv.Atoi(id)
					wb.xfFmt = append(wb.xfFmt, n)
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "cellXfs":
				inXfs = false
			case "numFmts":
				inFmts = false
			}
		}
	}
}

func (wb *workbook) readSheet(ws *wbSheet) (*Sheet, error) {
	b, err := wb.part(ws.target)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, &Error{VI: "Không đọc được trang tính " + ws.name + ".", EN: "Cannot read worksheet " + ws.name + ".",
			Err: fmt.Errorf("no part %q", ws.target)}
	}
	if s := wb.readPieces(ws, b, runtime.GOMAXPROCS(0)); s != nil {
		return s, nil
	}
	s := &Sheet{Name: ws.name}
	_, _, err = wb.scanRows(newXMLReader(b), s, false)
	return s, err
}

// scanRows reads the rows of a worksheet, or of a run of its rows, into s,
// and returns the numbers of the first and last row elements it met,
// empty ones included (0 for none). With numbered, every row must say its
// number (r): a run read alone cannot count from the rows before it.
func (wb *workbook) scanRows(d *xmlReader, s *Sheet, numbered bool) (first, last int, err error) {
	row, cells := 0, 0
	var values []string
	var errCols []errCell
	for {
		tok, err := d.next()
		if errors.Is(err, io.EOF) {
			return first, row, nil
		}
		if err != nil {
			return 0, 0, &rowError{row: row + 1, err: err}
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		if v, ok := attr(se, "r"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= row || n > 1<<20 {
				return 0, 0, &rowError{row: row + 1, err: fmt.Errorf("row number %q after row %d", v, row)}
			}
			row = n
		} else if numbered {
			return 0, 0, errUnnumbered
		} else {
			row++
		}
		if first == 0 {
			first = row
		}
		if values, errCols, err = wb.readRow(d, values[:0], errCols[:0]); err != nil {
			return 0, 0, &rowError{row: row, err: err}
		}
		if len(values) == 0 && len(errCols) == 0 {
			continue
		}
		if len(s.Rows) == MaxRows {
			return 0, 0, tooMany()
		}
		if cells += len(values); cells > maxCells {
			return 0, 0, tooLarge()
		}
		for _, c := range errCols {
			e := CellError{Row: len(s.Rows), Col: c.col, NoValue: c.noValue}
			if !c.noValue {
				e.Value = values[c.col]
			}
			s.Errors = append(s.Errors, e)
		}
		s.Rows = append(s.Rows, append([]string(nil), values...))
		s.Lines = append(s.Lines, row)
	}
}

var errUnnumbered = errors.New("a row without its number")

// readPieces reads the rows of worksheet part b in n runs at once, one a
// core: the tokenizer was a third of an XLSX import, and the other core
// idle then. It returns nil whenever the one pass must read the part
// instead (and then gives the errors, word for word): a part too small to
// share, in another encoding than UTF-8, with comments, CDATA or any other
// <! or <? markup (where "<row" could be text) or a namespace prefix on
// its rows, a row without its number, any error at all. Every run starts
// at a <row> tag and the last ends at the last </sheetData>, so each is
// whole XML on its own; the rest of the part (what comes before the first
// row and after the rows) is read as one document, which must be sound and
// hold no row; the runs' rows are joined in order and their numbers
// checked across runs, empty rows included, as the one pass checks them
// (review 41, helper 91).
func (wb *workbook) readPieces(ws *wbSheet, b []byte, n int) *Sheet {
	const minPiece = 1 << 20
	if n < 2 || len(b) < 2*minPiece || !plainUTF8(b) {
		return nil
	}
	// After the declaration: a "<row" inside its pseudo-attributes is
	// not a row (review 41, helper 92).
	from := 0
	if bytes.HasPrefix(b, []byte("<?xml")) {
		from = bytes.Index(b, []byte("?>")) + 2
	}
	first := rowTag(b, from)
	end := bytes.LastIndex(b, []byte("</sheetData>"))
	if first < 0 || end < first {
		return nil
	}
	n = min(n, (end-first)/minPiece)
	bounds := []int{first}
	for k := 1; k < n; k++ {
		at := rowTag(b, first+(end-first)*k/n)
		if at < 0 || at >= end {
			break
		}
		if at > bounds[len(bounds)-1] {
			bounds = append(bounds, at)
		}
	}
	bounds = append(bounds, end)
	if len(bounds) < 3 {
		return nil
	}
	// The part without its rows: a document of its own.
	frame := make([]byte, 0, first+len(b)-end)
	frame = append(append(frame, b[:first]...), b[end:]...)
	if _, last, err := wb.scanRows(newXMLReader(frame), &Sheet{}, false); err != nil || last != 0 {
		return nil
	}
	type piece struct {
		rows        Sheet
		first, last int // row numbers, empty rows included
		err         error
	}
	pieces := make([]piece, len(bounds)-1)
	var wg sync.WaitGroup
	for i := range pieces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &pieces[i]
			p.first, p.last, p.err = wb.scanRows(newXMLReader(b[bounds[i]:bounds[i+1]]), &p.rows, true)
		}()
	}
	wg.Wait()
	s := &Sheet{Name: ws.name}
	cells := 0
	for i := range pieces {
		p := &pieces[i].rows
		if pieces[i].err != nil || pieces[i].first == 0 {
			return nil
		}
		if i > 0 && pieces[i].first <= pieces[i-1].last {
			return nil // rows out of order: the one pass says where
		}
		for _, r := range p.Rows {
			cells += len(r)
		}
		for _, e := range p.Errors {
			e.Row += len(s.Rows)
			s.Errors = append(s.Errors, e)
		}
		s.Rows = append(s.Rows, p.Rows...)
		s.Lines = append(s.Lines, p.Lines...)
	}
	if len(s.Rows) > MaxRows || cells > maxCells {
		return nil
	}
	return s
}

// rowTag is the offset of the first "<row" start tag at or after from, or
// -1.
func rowTag(b []byte, from int) int {
	for from < len(b) {
		i := bytes.Index(b[from:], []byte("<row"))
		if i < 0 {
			return -1
		}
		at := from + i
		if at+4 < len(b) {
			switch b[at+4] {
			case ' ', '>', '/', '\t', '\n', '\r':
				return at
			}
		}
		from = at + 4
	}
	return -1
}

// plainUTF8 reports whether a part is UTF-8 XML with nothing in it that
// could hide a "<row" as text: no comment, CDATA, directive or processing
// instruction but the declaration, rows without a namespace prefix.
func plainUTF8(b []byte) bool {
	if len(b) >= 2 && (b[0] == 0xFE && b[1] == 0xFF || b[0] == 0xFF && b[1] == 0xFE) {
		return false
	}
	if bytes.HasPrefix(b, []byte("<?xml")) {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 {
			return false
		}
		decl := strings.ToLower(string(b[:end]))
		if i := strings.Index(decl, "encoding="); i >= 0 {
			enc := strings.Trim(decl[i+len("encoding="):], "\"' ")
			if j := strings.IndexAny(enc, "\"' "); j >= 0 {
				enc = enc[:j]
			}
			if enc != "utf-8" && enc != "utf8" {
				return false
			}
		}
		b = b[end+2:]
	}
	return !bytes.Contains(b, []byte("<!")) && !bytes.Contains(b, []byte("<?")) && !bytes.Contains(b, []byte(":row"))
}

// maxCols is Excel's column limit (XFD).
const maxCols = 16384

// readRow reads the cells of the <row> just opened, up to its last value:
// an empty cell costs nothing, wherever it is. It appends to errCols the
// formulas saved without their value and
// columns of the cells showing an Excel error value (t="e").
func (wb *workbook) readRow(d *xmlReader, values []string, errCols []errCell) ([]string, []errCell, error) {
	col := 0
	for {
		tok, err := d.next()
		if err != nil {
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "row" {
				return values, errCols, nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			if ref, ok := attr(t, "r"); ok {
				c, err := column(ref)
				if err != nil || c < col {
					return nil, nil, fmt.Errorf("cell %q out of place", ref)
				}
				col = c
			}
			if col >= maxCols {
				return nil, nil, fmt.Errorf("more than %d columns", maxCols)
			}
			v, noValue, err := wb.cell(d, t)
			if err != nil {
				return nil, nil, err
			}
			if noValue {
				errCols = append(errCols, errCell{col: col, noValue: true})
			}
			if v != "" {
				for len(values) < col {
					values = append(values, "")
				}
				values = append(values, v)
				if typ, _ := attr(t, "t"); typ == "e" {
					errCols = append(errCols, errCell{col: col})
				}
			}
			col++
		}
	}
}

// errCell is a cell of a row that holds no value to import: an Excel
// error value, or a formula saved without its value.
type errCell struct {
	col     int
	noValue bool
}

// column is the index of a cell reference's column ("C7" is 2).
func column(ref string) (int, error) {
	n, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		n = n*26 + int(c-'a') + 1
		if n > maxCols {
			return 0, errors.New("column beyond XFD")
		}
	}
	if i == 0 {
		return 0, errors.New("no column")
	}
	return n - 1, nil
}

// cell reads the <c> just opened and renders its value. noValue: it is a
// formula saved without its value (<f> and no <v>, or an empty one that
// is no text), as a program writing
// a workbook (openpyxl, excelize, a web export) leaves it for Excel to
// compute when it opens the file: its value is not known, not empty.
func (wb *workbook) cell(d *xmlReader, c xml.StartElement) (v string, noValue bool, err error) {
	typ, _ := attr(c, "t")
	style := 0
	if v, ok := attr(c, "s"); ok {
		style, _ = strconv.Atoi(v)
	}
	var raw string
	var inline *string
	formula, hasV := false, false
	for depth := 1; depth > 0; {
		tok, err := d.next()
		if err != nil {
			return "", false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				s, err := charData(d)
				if err != nil {
					return "", false, err
				}
				raw, hasV = s, true
			case "is":
				s, err := text(d, "rPh")
				if err != nil {
					return "", false, err
				}
				inline = &s
			case "f":
				formula = true
				depth++
			default:
				depth++
			}
		case xml.EndElement:
			depth--
		}
	}
	// openpyxl writes an empty <v/> for a formula; Excel writes one only
	// for a formula whose value is the empty text (t="str").
	if formula && inline == nil && (!hasV || raw == "" && typ != "str") {
		return "", true, nil
	}
	v, err = wb.value(typ, raw, inline, style)
	return v, false, err
}

// value renders a cell's value by its type and style.
func (wb *workbook) value(typ, raw string, inline *string, style int) (string, error) {
	switch typ {
	case "s":
		if raw == "" {
			return "", nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || i < 0 || i >= len(wb.strings) {
			return "", fmt.Errorf("shared string %q not in the workbook", raw)
		}
		return wb.strings[i], nil
	case "inlineStr":
		if inline != nil {
			return unescapeBSTR(*inline), nil
		}
		return raw, nil
	case "str", "e":
		return raw, nil
	case "b":
		if raw == "" {
			return "", nil
		}
		if isTrue(raw) {
			return "TRUE", nil
		}
		return "FALSE", nil
	case "d":
		return isoDate(raw), nil
	}
	return wb.number(raw, style), nil
}

// charData reads the text of the element just opened, up to its end.
func charData(d *xmlReader) (string, error) {
	var sb strings.Builder
	for depth := 1; depth > 0; {
		tok, err := d.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			sb.Write(t)
		}
	}
	return sb.String(), nil
}

// number renders a numeric cell in its style's number format.
func (wb *workbook) number(raw string, style int) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return raw
	}
	id := 0
	if style > 0 && style < len(wb.xfFmt) {
		id = wb.xfFmt[style]
	}
	code, custom := wb.numFmts[id]
	switch {
	case !custom && builtinDate(id):
		return wb.date(f, builtinShows(id))
	case custom:
		if shows := dateFormat(code); shows != 0 {
			return wb.date(f, shows)
		}
		if s, ok := integerFormat(code, f); ok {
			return s
		}
	}
	return general(raw, f)
}

// general is a number as Excel's General format shows it: all its digits
// up to 15 significant ones (integers typed with trailing zeros kept),
// else to 15 significant digits.
func general(raw string, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if len(s)-strings.Count(s, ".") > 15 && !withinPrecision(raw) {
		return strconv.FormatFloat(f, 'G', 15, 64)
	}
	return s
}

// withinPrecision: an integer whose digits beyond 15 are trailing zeros.
func withinPrecision(raw string) bool {
	if strings.ContainsAny(raw, ".Ee") {
		return false
	}
	raw = strings.TrimLeft(raw, "+-0")
	return len(strings.TrimRight(raw, "0")) <= 15
}

// builtinDate: the built-in formats that show a date or a time of day
// (46, elapsed [h]:mm:ss, is a duration: its number reads).
func builtinDate(id int) bool {
	return id >= 14 && id <= 22 || id >= 27 && id <= 36 || id == 45 || id == 47 || id >= 50 && id <= 58
}

// What a date format shows.
const (
	showsDate = 1 << iota
	showsTime
	showsSeconds
)

func builtinShows(id int) int {
	switch id {
	case 18, 20:
		return showsTime
	case 19, 21, 45, 47:
		return showsTime | showsSeconds
	case 22:
		return showsDate | showsTime
	}
	return showsDate
}

// dateFormat says what a custom format shows of a date: d, y (and m
// without hours) show the date, h and m beside it the time, s seconds;
// quoted text, escapes and brackets (colours, locales) aside. A format
// that shows digits (0, #, ?) or elapsed time ([h]) is not a date: 0.
func dateFormat(code string) int {
	var d, m, h, s bool
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return 0
			}
			switch strings.ToLower(code[i+1 : i+j]) {
			case "h", "hh", "m", "mm", "s", "ss":
				return 0
			}
			i += j
		case ';':
			i = len(code) // the first section decides
		case '.':
			if s { // fractions of a second
				for i+1 < len(code) && code[i+1] == '0' {
					i++
				}
			}
		case '0', '#', '?':
			return 0
		default:
			switch c | 0x20 {
			case 'd', 'y':
				d = true
			case 'm':
				m = true
			case 'h':
				h = true
			case 's':
				s = true
			}
		}
	}
	shows := 0
	if d || m && !h && !s {
		shows |= showsDate
	}
	if h || s {
		shows |= showsTime
	}
	if s {
		shows |= showsSeconds
	}
	return shows
}

// integerFormat renders f in a custom format whose first section shows
// an integer: digit placeholders (0 shows a digit always, # and ? only
// where the number has one) among literal text, as "0#########",
// "\"0\"#########", "000-000-0000" or "[$-42A]0000000000;@" show a phone
// typed as a number with its leading zero. Any other format (decimals,
// thousands, percent, exponents, text), a negative number or one that is
// not an integer: false.
func integerFormat(code string, f float64) (string, bool) {
	if f < 0 || f != math.Trunc(f) || f >= 1e15 {
		return "", false
	}
	type piece struct {
		lit   string
		place byte // 0 for a literal
	}
	var pieces []piece
	places, firstZero := 0, -1
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case ';':
			i = len(code) // the first section, for positive numbers
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				return "", false
			}
			pieces = append(pieces, piece{lit: code[i+1 : i+1+j]})
			i += j + 1
		case '\\':
			if i+1 < len(code) {
				_, n := utf8.DecodeRuneInString(code[i+1:])
				pieces = append(pieces, piece{lit: code[i+1 : i+1+n]})
				i += n
			}
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return "", false
			}
			i += j
		case '_', '*':
			i++ // a space as wide as the next character; a fill
		case '0', '#', '?':
			if c == '0' && firstZero < 0 {
				firstZero = places
			}
			pieces = append(pieces, piece{place: c})
			places++
		case ' ', '-', '(', ')', '/', ':', '+', '$':
			pieces = append(pieces, piece{lit: code[i : i+1]})
		default:
			return "", false // decimals, thousands, %, E, letters
		}
	}
	if places == 0 {
		return "", false
	}
	digits := strconv.FormatFloat(f, 'f', 0, 64)
	if digits == "0" && firstZero < 0 {
		digits = ""
	}
	// Digits fill the placeholders from the right; the first takes any
	// the format has no room for.
	var sb strings.Builder
	next := len(digits) - places // digits[next] goes to the first placeholder
	seen := 0
	for _, p := range pieces {
		if p.place == 0 {
			sb.WriteString(p.lit)
			continue
		}
		if seen == 0 && next > 0 {
			sb.WriteString(digits[:next])
		}
		switch k := next + seen; {
		case k >= 0:
			sb.WriteByte(digits[k])
		case p.place == '0' || firstZero >= 0 && seen >= firstZero:
			sb.WriteByte('0')
		case p.place == '?':
			sb.WriteByte(' ')
		}
		seen++
	}
	return sb.String(), true
}

// date renders an Excel serial date, from 1900 (with its leap-year slip:
// serial 60 is 1900-02-29, which never was) or 1904, as YYYY-MM-DD and
// the time as the format shows it.
func (wb *workbook) date(serial float64, shows int) string {
	if serial < 0 || serial > 2958465 { // beyond 9999-12-31
		return general(strconv.FormatFloat(serial, 'f', -1, 64), serial)
	}
	days := math.Floor(serial)
	ms := math.Round((serial - days) * 86400000)
	var t time.Time
	day := ""
	switch {
	case wb.date1904:
		t = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case days == 60:
		day = "1900-02-29"
		t = time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC)
		days = 0
	case days < 60:
		t = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		t = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	t = t.AddDate(0, 0, int(days)).Add(time.Duration(ms) * time.Millisecond)
	if day == "" {
		day = t.Format("2006-01-02")
	}
	clock := ""
	switch {
	case shows&showsSeconds != 0:
		clock = t.Format("15:04:05")
	case shows&showsTime != 0:
		clock = t.Format("15:04")
	}
	switch {
	case shows&showsDate == 0:
		return clock
	case clock == "":
		return day
	}
	return day + " " + clock
}

// isoDate renders a cell of type d (an ISO 8601 date) by its date.
func isoDate(raw string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
				return t.Format("2006-01-02")
			}
			return t.Format("2006-01-02 15:04:05")
		}
	}
	return raw
}

// unescapeBSTR turns the escapes Excel writes for characters XML cannot
// hold (_x000D_ for a carriage return; _x005F_ for an underscore that
// would start one) back into the characters.
func unescapeBSTR(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				if n == 0x5F {
					sb.WriteByte('_')
				} else if r := rune(n); utf8.ValidRune(r) {
					sb.WriteRune(r)
				}
				i += 7
				continue
			}
		}
		sb.WriteByte(s[i])
		i++
	}
	return sb.String()
}

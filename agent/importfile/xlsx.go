package importfile

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
// text as typed; numbers in General (and "0") as Excel's 15 significant
// digits; numbers in a zero-padded format ("0000000000", a phone typed as
// a number) with their leading zeros; dates (any date format, built-in or
// custom) as YYYY-MM-DD, with the time when the format shows one, so that
// a list written on a Vietnamese-locale Excel reads the same as any other;
// TRUE and FALSE. A number in any other format ("#,##0", currency,
// percent) reads as its General digits, which is what an importer wants.

// maxPart bounds one decompressed part: a worksheet of MaxRows households
// is some hundreds of megabytes (split it); beyond this it is a zip bomb.
const maxPart = 256 << 20

var errPartTooLarge = errors.New("part too large")

type workbook struct {
	zip      map[string]*zip.File
	date1904 bool
	sheets   []wbSheet
	active   int
	strings  []string
	numFmts  map[int]string // custom formats by id
	xfFmt    []int          // cellXfs: number format id by style index
}

type wbSheet struct{ name, rid, target string }

func xlsxError(err error) error {
	if errors.Is(err, errPartTooLarge) {
		return tooMany()
	}
	return &Error{VI: "Không đọc được tệp .xlsx (tệp hỏng, hoặc có mật khẩu). Hãy mở và lưu lại trong Excel.", EN: "Cannot read the .xlsx file (damaged, or password-protected). Open and save it again in Excel.", Err: err}
}

// ReadXLSX reads one worksheet of a workbook (the active one when sheet is
// ""), cells as Excel shows them (see above).
func ReadXLSX(r io.Reader, sheet string) (*Sheet, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPart+1))
	if err != nil {
		return nil, xlsxError(err)
	}
	if len(data) > maxPart {
		return nil, tooMany()
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, xlsxError(err)
	}
	wb := &workbook{zip: map[string]*zip.File{}, numFmts: map[int]string{}}
	for _, f := range zr.File {
		wb.zip[strings.TrimPrefix(f.Name, "/")] = f
	}
	if err := wb.readWorkbook(); err != nil {
		return nil, xlsxError(err)
	}
	if len(wb.sheets) == 0 {
		return nil, &Error{VI: "Tệp .xlsx không có trang tính nào.", EN: "The .xlsx file has no worksheet."}
	}
	var ws *wbSheet
	if sheet == "" {
		ws = &wb.sheets[min(max(wb.active, 0), len(wb.sheets)-1)]
	} else {
		names := make([]string, len(wb.sheets))
		for i := range wb.sheets {
			names[i] = wb.sheets[i].name
			if strings.EqualFold(wb.sheets[i].name, sheet) {
				ws = &wb.sheets[i]
			}
		}
		if ws == nil {
			return nil, &Error{VI: fmt.Sprintf("Không có trang tính %q. Các trang tính: %s.", sheet, strings.Join(names, ", ")),
				EN: fmt.Sprintf("No worksheet %q. The worksheets: %s.", sheet, strings.Join(names, ", "))}
		}
	}
	if err := wb.readStrings(); err != nil {
		return nil, xlsxError(err)
	}
	if err := wb.readStyles(); err != nil {
		return nil, xlsxError(err)
	}
	s, err := wb.readSheet(ws)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, err
		}
		if errors.Is(err, errPartTooLarge) {
			return nil, tooMany()
		}
		return nil, &Error{VI: "Không đọc hết được trang tính " + ws.name + ".", EN: "Cannot read all of worksheet " + ws.name + ".", Err: err}
	}
	return s, nil
}

// part opens a part of the package; nil, nil when it is absent.
func (wb *workbook) part(name string) ([]byte, error) {
	f := wb.zip[name]
	if f == nil {
		return nil, nil
	}
	if f.UncompressedSize64 > maxPart {
		return nil, errPartTooLarge
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPart+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxPart {
		return nil, errPartTooLarge
	}
	return b, nil
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
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
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
			if v, ok := attr(se, "activeTab"); ok {
				wb.active, _ = strconv.Atoi(v)
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
			wb.zip["#strings"] = wb.zip[r.target]
		case strings.HasSuffix(r.typ, "/styles"):
			wb.zip["#styles"] = wb.zip[r.target]
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
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
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
func text(d *xml.Decoder, phonetic string) (string, error) {
	var sb strings.Builder
	depth, inT, skip := 1, 0, 0
	for depth > 0 {
		tok, err := d.RawToken()
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

func (wb *workbook) readStrings() error {
	f := wb.zip["#strings"]
	if f == nil {
		f = wb.zip["xl/sharedStrings.xml"]
	}
	if f == nil {
		return nil
	}
	wb.zip["#strings"] = f
	b, err := wb.part("#strings")
	if err != nil {
		return err
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
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
	f := wb.zip["#styles"]
	if f == nil {
		f = wb.zip["xl/styles.xml"]
	}
	if f == nil {
		return nil
	}
	wb.zip["#styles"] = f
	b, err := wb.part("#styles")
	if err != nil {
		return err
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	inXfs := false
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("styles: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
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
			if t.Name.Local == "cellXfs" {
				inXfs = false
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
	s := &Sheet{Name: ws.name}
	d := xml.NewDecoder(bytes.NewReader(b))
	row := 0
	var cells []string
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", row+1, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		if v, ok := attr(se, "r"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n <= row || n > 1<<20 {
				return nil, fmt.Errorf("row number %q after row %d", v, row)
			}
			row = n
		} else {
			row++
		}
		if cells, err = wb.readRow(d, cells[:0], row); err != nil {
			return nil, err
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) == 0 {
			continue
		}
		if len(s.Rows) == MaxRows {
			return nil, tooMany()
		}
		s.Rows = append(s.Rows, append([]string(nil), cells...))
		s.Lines = append(s.Lines, row)
	}
}

// maxCols is Excel's column limit (XFD).
const maxCols = 16384

// readRow reads the cells of the <row> just opened.
func (wb *workbook) readRow(d *xml.Decoder, cells []string, row int) ([]string, error) {
	col := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", row, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "row" {
				return cells, nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			if ref, ok := attr(t, "r"); ok {
				c, err := column(ref)
				if err != nil || c < col {
					return nil, fmt.Errorf("row %d: cell %q out of place", row, ref)
				}
				col = c
			}
			if col >= maxCols {
				return nil, fmt.Errorf("row %d: more than %d columns", row, maxCols)
			}
			v, err := wb.cell(d, t)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", row, err)
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells = append(cells, v)
			col++
		}
	}
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

// cell reads the <c> just opened and renders its value.
func (wb *workbook) cell(d *xml.Decoder, c xml.StartElement) (string, error) {
	typ, _ := attr(c, "t")
	style := 0
	if v, ok := attr(c, "s"); ok {
		style, _ = strconv.Atoi(v)
	}
	var raw string
	var inline *string
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				s, err := charData(d)
				if err != nil {
					return "", err
				}
				raw = s
			case "is":
				s, err := text(d, "rPh")
				if err != nil {
					return "", err
				}
				inline = &s
			default:
				depth++
			}
		case xml.EndElement:
			depth--
		}
	}
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
func charData(d *xml.Decoder) (string, error) {
	var sb strings.Builder
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
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
	case !custom && id == 49, custom && code == "@":
		return raw
	case !custom && builtinDate(id):
		return wb.date(f, builtinShows(id))
	case custom:
		if shows := dateFormat(code); shows != 0 {
			return wb.date(f, shows)
		}
		if n := zeroPad(code); n > 0 && f >= 0 && f == math.Trunc(f) && f < 1e15 {
			s := strconv.FormatFloat(f, 'f', 0, 64)
			if len(s) < n {
				s = strings.Repeat("0", n-len(s)) + s
			}
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

// zeroPad is n for a format of n zeros ("0000000000"), else 0.
func zeroPad(code string) int {
	if len(code) < 2 || strings.Trim(code, "0") != "" {
		return 0
	}
	return len(code)
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

package schema

import (
	"archive/zip"
	"bufio"
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/internal/officefile"
)

//go:embed refdata/*.csv
var refdata embed.FS

// Skill is one entry of the tutoring catalogue. HouseholdFlag, when set, is
// the households field that records a household has this skill.
type Skill struct {
	Code          string
	NameVI        string
	NameEN        string
	HouseholdFlag string
}

// ReportCategory is one CaMau-G field-report category.
type ReportCategory struct {
	Code   string
	NameVI string
	NameEN string
}

// The embedded files are part of the build; a malformed one is a build bug
// that the package tests catch, so the loaders panic instead of making every
// caller handle an error that cannot happen in a tested binary.
var (
	skills = sync.OnceValue(func() []Skill {
		var out []Skill
		mustReadEmbedded("refdata/skills.csv", []string{"code", "name_vi", "name_en", "household_flag"}, func(r record) error {
			out = append(out, Skill{Code: r.get("code"), NameVI: r.get("name_vi"), NameEN: r.get("name_en"), HouseholdFlag: r.get("household_flag")})
			return nil
		})
		return out
	})
	categories = sync.OnceValue(func() []ReportCategory {
		var out []ReportCategory
		mustReadEmbedded("refdata/report-categories.csv", []string{"code", "name_vi", "name_en"}, func(r record) error {
			out = append(out, ReportCategory{Code: r.get("code"), NameVI: r.get("name_vi"), NameEN: r.get("name_en")})
			return nil
		})
		return out
	})
)

// Skills returns the skill catalogue in file order.
func Skills() []Skill { return slices.Clone(skills()) }

// SkillByCode finds a skill by its code.
func SkillByCode(code string) (Skill, bool) {
	i := slices.IndexFunc(skills(), func(s Skill) bool { return s.Code == code })
	if i < 0 {
		return Skill{}, false
	}
	return skills()[i], true
}

// ReportCategories returns the field-report categories in file order.
func ReportCategories() []ReportCategory { return slices.Clone(categories()) }

// ReportCategoryByCode finds a report category by its code.
func ReportCategoryByCode(code string) (ReportCategory, bool) {
	i := slices.IndexFunc(categories(), func(c ReportCategory) bool { return c.Code == code })
	if i < 0 {
		return ReportCategory{}, false
	}
	return categories()[i], true
}

// EnumValues returns the allowed values of an enum named in Field.Enum, in
// display order, or nil for an unknown enum name.
func EnumValues(enum string) []string {
	switch enum {
	case EnumSkill:
		out := make([]string, 0, len(skills()))
		for _, s := range skills() {
			out = append(out, s.Code)
		}
		return out
	case EnumReportCategory:
		out := make([]string, 0, len(categories()))
		for _, c := range categories() {
			out = append(out, c.Code)
		}
		return out
	case EnumReportStatus:
		out := make([]string, len(reportStatuses))
		for i, s := range reportStatuses {
			out[i] = string(s)
		}
		return out
	case EnumTutoringOutcome:
		return []string{string(OutcomeIndependent), string(OutcomeNeedsHelp)}
	case EnumRole:
		return []string{string(RoleLeader), string(RoleMember)}
	}
	return nil
}

var enumSets = sync.OnceValue(func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for _, name := range []string{EnumSkill, EnumReportCategory, EnumReportStatus, EnumTutoringOutcome, EnumRole} {
		set := map[string]bool{}
		for _, v := range EnumValues(name) {
			set[v] = true
		}
		m[name] = set
	}
	return m
})

func enumHas(enum, v string) bool { return enumSets()[enum][v] }

// record is one CSV row with its header, so parsers read columns by name and
// report positions the way a person editing the file sees them.
type record struct {
	line   int
	fields []string
	cols   map[string]int
	lines  []int // line of each cell: a quoted cell may span lines
}

func (r record) get(col string) string { return r.fields[r.cols[col]] }

// errAt builds a parse error pointing at a column of this row, said in
// Vietnamese (vi) and English (en), both formats taking args.
func (r record) errAt(col, vi, en string, args ...any) *ParseError {
	i := r.cols[col]
	return &ParseError{Line: r.lines[i], Column: i + 1, ColumnName: col, Msg: fmt.Sprintf(en, args...), MsgVI: fmt.Sprintf(vi, args...)}
}

// ParseError points at the place in a CSV file to fix.
type ParseError struct {
	Line       int    // 1-based line in the file
	Column     int    // 1-based column (field) number, 0 if the whole row
	ColumnName string // header name of that column
	Msg        string // what is wrong and what to do
	MsgVI      string // the same in Vietnamese
}

func (e *ParseError) Error() string {
	if e.Line == 0 { // the whole file
		return e.Msg
	}
	if e.Column == 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d, column %d (%s): %s", e.Line, e.Column, e.ColumnName, e.Msg)
}

// Message is the error in the operator's language ("vi" or "en").
func (e *ParseError) Message(lang string) string {
	if lang == "en" || e.MsgVI == "" {
		return e.Error()
	}
	if e.Line == 0 {
		return e.MsgVI
	}
	if e.Column == 0 {
		return fmt.Sprintf("dòng %d: %s", e.Line, e.MsgVI)
	}
	return fmt.Sprintf("dòng %d, cột %d (%s): %s", e.Line, e.Column, e.ColumnName, e.MsgVI)
}

// readCSV reads a headed CSV file, checks the header names the columns the
// caller needs (extra columns are allowed, in any order), and calls row for
// every record with its cells NFC-normalised and trimmed.
func readCSV(in io.Reader, want []string, row func(record) error) error {
	cr, err := newCSVReader(in)
	if err != nil {
		return err
	}
	return readCSVFrom(cr, want, row)
}

// What to do with a workbook given for a CSV file.
const (
	saveCSV   = "hãy mở tệp trong Excel, lưu dạng CSV UTF-8 (Lưu thành, chọn CSV UTF-8), rồi nạp tệp CSV đó"
	saveCSVEN = "open it in Excel, save it as CSV UTF-8 (Save As, CSV UTF-8), and import that CSV file"
)

// What to do with a zip given for a CSV file whose content is not told.
const (
	eachKind   = "nếu là tệp Excel, hãy mở tệp trong Excel, lưu dạng CSV UTF-8 (Lưu thành, chọn CSV UTF-8), rồi nạp tệp CSV đó; nếu là tệp nén (.zip), hãy giải nén rồi nạp tệp CSV UTF-8 bên trong"
	eachKindEN = "if it is an Excel workbook, open it in Excel, save it as CSV UTF-8 (Save As, CSV UTF-8), and import that CSV file; if it is a zip archive, extract it and import the CSV UTF-8 file inside"
)

// maxZipRead bounds how much of a zip archive given for a CSV file is
// read to tell what it holds: an operator's lists are far smaller.
const maxZipRead = 64 << 20

// zipFileError tells what the zip archive given for a CSV file holds, and
// what to do: a workbook, a LibreOffice spreadsheet or a Word document is
// saved as CSV; a zip of files is extracted, naming the CSV inside.
func zipFileError(r io.Reader) *ParseError {
	data, err := io.ReadAll(io.LimitReader(r, maxZipRead+1))
	if err == nil && len(data) > maxZipRead {
		// Not read through: what it holds is not told, only what to do
		// with each kind it may be.
		return &ParseError{
			Msg:   "the file is a zip archive or an Office file (.xlsx, .docx, .ods) larger than 64 MB, not CSV: " + eachKindEN,
			MsgVI: "tệp là tệp nén hoặc tệp Office (.xlsx, .docx, .ods) lớn hơn 64 MB, không phải CSV: " + eachKind}
	}
	var zr *zip.Reader
	if err == nil {
		zr, err = zip.NewReader(bytes.NewReader(data), int64(len(data)))
	}
	if err != nil {
		// Cut short (a download or a copy that stopped midway), or
		// damaged: its list of parts, at its end, is not there to read.
		return &ParseError{
			Msg:   "the file starts as a zip archive does (an .xlsx, .docx, .ods or .zip), but it is damaged or cut short and cannot be read: copy it again from where it came from (a download or a copy from a USB stick may have stopped midway); then " + eachKindEN,
			MsgVI: "tệp có dạng tệp nén (như tệp .xlsx, .docx, .ods, .zip) nhưng bị hỏng hoặc không trọn vẹn, không đọc được: hãy chép lại tệp từ nơi lấy tệp (tải về hoặc chép từ USB có thể đã dừng giữa chừng); sau đó " + eachKind}
	}
	switch kind, files := officefile.PackageOf(zr); kind {
	case officefile.OpenSpreadsheet:
		return &ParseError{
			Msg:   "the file is a LibreOffice/OpenOffice spreadsheet (.ods), not CSV: open it in LibreOffice Calc, choose File → Save As, type \"Text CSV\", character set Unicode (UTF-8), and import that CSV UTF-8 file",
			MsgVI: "tệp là bảng tính LibreOffice/OpenOffice (.ods), không phải CSV: hãy mở tệp trong LibreOffice Calc, chọn Tệp → Lưu thành, kiểu \"Văn bản CSV\", bộ ký tự Unicode (UTF-8), rồi nạp tệp CSV UTF-8 đó"}
	case officefile.OpenDocument, officefile.WordDocument, officefile.Presentation:
		what, whatVI := "a LibreOffice/OpenOffice document (.odt, .odp...)", "tài liệu LibreOffice/OpenOffice (.odt, .odp...)"
		switch kind {
		case officefile.WordDocument:
			what, whatVI = "a Word document (.docx)", "tài liệu Word (.docx)"
		case officefile.Presentation:
			what, whatVI = "a PowerPoint presentation (.pptx)", "bài trình chiếu PowerPoint (.pptx)"
		}
		return &ParseError{
			Msg:   "the file is " + what + ", not CSV: copy its table into Excel, save it as CSV UTF-8 (Save As, CSV UTF-8), and import that CSV file",
			MsgVI: "tệp là " + whatVI + ", không phải CSV: hãy chép bảng trong đó sang Excel, lưu dạng CSV UTF-8 (Lưu thành, chọn CSV UTF-8), rồi nạp tệp CSV đó"}
	case officefile.PlainZip:
		inside, insideVI := "", ""
		if len(files) > 0 {
			if len(files) > 5 {
				files = append(files[:5:5], "…")
			}
			inside, insideVI = " (it holds: "+strings.Join(files, ", ")+")", " (trong đó có: "+strings.Join(files, ", ")+")"
		}
		return &ParseError{
			Msg:   "the file is a zip archive" + inside + ", not CSV: extract it, and import the CSV UTF-8 file inside",
			MsgVI: "tệp là một tệp nén (.zip)" + insideVI + ", không phải CSV: hãy giải nén tệp, rồi nạp tệp CSV UTF-8 bên trong"}
	}
	return &ParseError{Msg: "the file is an Excel workbook (.xlsx), not CSV: " + saveCSVEN, MsgVI: "tệp là tệp Excel (.xlsx), không phải CSV: " + saveCSV}
}

// newCSVReader reads in with the separator its first line uses: Excel on
// a Windows set to Vietnamese saves "CSV" with semicolons. A workbook
// (an .xlsx, an .xls, one saved with a password) is refused with a
// *ParseError saying what it is and how to save it as CSV.
func newCSVReader(in io.Reader) (*csv.Reader, error) {
	br := bufio.NewReader(in)
	if err := RefuseWorkbook(br); err != nil {
		return nil, err
	}
	first, _ := br.Peek(4096)
	cr := csv.NewReader(br)
	if line, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		cr.Comma = ';'
	}
	return cr, nil
}

// RefuseWorkbook is a *ParseError when br, given for a CSV file, is a
// workbook (an .xlsx, an .xls, one saved with a password), another Office
// or OpenDocument file, or a zip archive: what it is and how to make the
// CSV file. It leaves br's bytes unread otherwise. Every reader of an
// operator's CSV file asks it first (a units or hamlets file here; the
// calendar's schedules in cmd/hamlet-server).
func RefuseWorkbook(br *bufio.Reader) error {
	switch officefile.Peek(br) {
	case officefile.Encrypted:
		return &ParseError{
			Msg:   "the file is a password-protected Excel workbook, which cannot be read: open it in Excel with its password, save it without a password as CSV UTF-8 (Save As, CSV UTF-8), and import that CSV file",
			MsgVI: "tệp là bảng tính Excel có đặt mật khẩu, không đọc được: hãy mở tệp trong Excel bằng mật khẩu của nó, lưu lại không có mật khẩu dạng CSV UTF-8 (Lưu thành, chọn CSV UTF-8), rồi nạp tệp CSV đó"}
	case officefile.Zip:
		return zipFileError(br)
	case officefile.Compound:
		return &ParseError{Msg: "the file is an Excel 97-2003 workbook (.xls), not CSV: " + saveCSVEN, MsgVI: "tệp là tệp Excel 97-2003 (.xls), không phải CSV: " + saveCSV}
	}
	return nil
}

func readCSVFrom(cr *csv.Reader, want []string, row func(record) error) error {
	header, err := cr.Read()
	if err == io.EOF {
		return &ParseError{Line: 1, Msg: "the file is empty; it must start with a header line: " + strings.Join(want, ","),
			MsgVI: "tệp trống; dòng đầu phải là dòng tên cột: " + strings.Join(want, ",")}
	}
	if err != nil {
		return csvError(err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // Excel writes a BOM
		if _, dup := cols[h]; dup {
			return &ParseError{Line: 1, Column: i + 1, ColumnName: h, Msg: "this column name appears twice in the header; remove one",
				MsgVI: "tên cột này có hai lần trong dòng tên cột; hãy bỏ một"}
		}
		cols[h] = i
	}
	for _, w := range want {
		if _, ok := cols[w]; !ok {
			return &ParseError{Line: 1, Msg: fmt.Sprintf("the header has no %q column; the header must name: %s", w, strings.Join(want, ",")),
				MsgVI: fmt.Sprintf("dòng tên cột thiếu cột %q; dòng tên cột phải có: %s", w, strings.Join(want, ","))}
		}
	}
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		if cleanCells(fields) { // a row Excel keeps after its cells were cleared: ",,,"
			continue
		}
		// Positions are taken now: FieldPos only describes the latest record,
		// and some checks report a row after later rows have been read.
		lines := make([]int, len(fields))
		for i := range fields {
			lines[i], _ = cr.FieldPos(i)
		}
		if err := row(record{line: lines[0], fields: fields, cols: cols, lines: lines}); err != nil {
			return err
		}
	}
}

// cleanCells NFC-normalises and trims a row's cells in place, and says
// whether they are all empty.
func cleanCells(fields []string) (blank bool) {
	blank = true
	for i := range fields {
		fields[i] = strings.TrimSpace(norm.NFC.String(fields[i]))
		blank = blank && fields[i] == ""
	}
	return blank
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg, vi := pe.Err.Error(), ""
		switch pe.Err {
		case csv.ErrFieldCount:
			msg = "this row has a different number of columns from the header; check for a missing or extra comma (quote cells that contain commas)"
			vi = "dòng này có số cột khác dòng tên cột; hãy xem có thiếu hay thừa dấu phẩy không (ô có dấu phẩy phải đặt trong ngoặc kép)"
		case csv.ErrQuote, csv.ErrBareQuote:
			msg = "a quotation mark is out of place; a cell with a quote must be wrapped in quotes and the quote doubled (\"\")"
			vi = "dấu ngoặc kép đặt sai chỗ; ô có dấu ngoặc kép phải đặt trong ngoặc kép và viết dấu đó hai lần (\"\")"
		}
		// csv counts columns in characters, not cells, so say so in the text.
		// A quote left open is read to the end of the file: the line it
		// opened on is where to look (helper 144).
		if pe.StartLine > 0 && pe.StartLine < pe.Line && (pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote) {
			return &ParseError{Line: pe.StartLine,
				Msg:   "a quotation mark on this line is never closed; close it, or remove it (a cell with a quote must be wrapped in quotes and the quote doubled)",
				MsgVI: "dấu ngoặc kép ở dòng này không được đóng; hãy đóng lại, hoặc bỏ đi (ô có dấu ngoặc kép phải đặt trong ngoặc kép và viết dấu đó hai lần)"}
		}
		e := &ParseError{Line: pe.Line, Msg: fmt.Sprintf("at character %d: %s", pe.Column, msg)}
		if vi != "" {
			e.MsgVI = fmt.Sprintf("ở ký tự thứ %d: %s", pe.Column, vi)
		}
		return e
	}
	return fmt.Errorf("schema: read CSV: %w", err)
}

func mustReadEmbedded(name string, want []string, row func(record) error) {
	f, err := refdata.Open(name)
	if err != nil {
		panic(fmt.Sprintf("schema: embedded %s: %v", name, err))
	}
	defer f.Close()
	if err := readCSV(f, want, row); err != nil {
		panic(fmt.Sprintf("schema: embedded %s: %v", name, err))
	}
}

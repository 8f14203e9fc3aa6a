package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hamlet-vn/hamlet/workcal"
)

// Column is one column: its key and headers in both languages.
type Column struct {
	Key      string
	HeaderVI string
	HeaderEN string
	// Percent formats a 0..1 value as a percentage in XLSX.
	Percent bool
	// Time marks a column of instants: written in Vietnam's local time, as
	// the dashboard shows them, with the zone in the header.
	Time bool
}

// Text is a cell whose words depend on the export's language (a status,
// a category, yes or no).
type Text struct{ VI, EN string }

func (t Text) in(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.VI
}

// Table is a titled grid of values: string, Text, int, float64, bool,
// time.Time or nil.
type Table struct {
	Name    string // file name, ASCII
	SheetVI string // XLSX sheet names (at most 31 characters, none of []:*?/\)
	SheetEN string
	TitleVI string
	TitleEN string
	Columns []Column
	Rows    [][]any
}

// Zone headers: Vietnam has one time zone and no daylight saving, so the
// offset says it all.
const (
	zoneVI = " (giờ Việt Nam, UTC+7)"
	zoneEN = " (Vietnam time, UTC+7)"
)

func (t *Table) headers(lang string) []string {
	h := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		h[i] = c.HeaderVI
		if lang == "en" {
			h[i] = c.HeaderEN
		}
		if c.Time {
			h[i] += map[bool]string{false: zoneVI, true: zoneEN}[lang == "en"]
		}
	}
	return h
}

func (t *Table) sheet(lang string) string {
	name := t.SheetVI
	if lang == "en" {
		name = t.SheetEN
	}
	if name == "" {
		name = t.Name
	}
	if name == "" {
		name = "Sheet1"
	}
	return name
}

var yesNo = map[bool]Text{true: {"Có", "Yes"}, false: {"Không", "No"}}

// local is t as Vietnam's wall clock.
func local(t time.Time) time.Time { return t.In(workcal.Vietnam) }

func cell(v any, lang string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return neutralise(x)
	case Text:
		return neutralise(x.in(lang))
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return local(x).Format("2006-01-02 15:04")
	case float64:
		return fmt.Sprintf("%.4f", x)
	case bool:
		return yesNo[x].in(lang)
	default:
		return fmt.Sprint(x)
	}
}

// neutralise keeps a text cell from being read as a formula by a
// spreadsheet opening the CSV (OWASP, "CSV Injection"): a cell beginning
// with =, +, -, @, a tab or a carriage return gets a leading single quote,
// which Excel and LibreOffice show as text and do not display. Numbers are
// written by cell as numbers and never pass here, so -3 stays -3.
func neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the table as UTF-8 CSV with a byte-order mark, which is
// what makes Excel on a Vietnamese Windows office PC read the diacritics.
func WriteCSV(w io.Writer, t *Table, lang string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.headers(lang)); err != nil {
		return fmt.Errorf("write %s CSV header: %w", t.Name, err)
	}
	rec := make([]string, len(t.Columns))
	for i, row := range t.Rows {
		for j := range rec {
			rec[j] = ""
			if j < len(row) {
				rec[j] = cell(row[j], lang)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write %s CSV row %d: %w", t.Name, i+1, err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the table as a one-sheet workbook: a bold header row,
// frozen, numbers as numbers, coverage as percentages and times as dates in
// Vietnam's local time. Text is written as typed text (inline strings),
// which a spreadsheet never evaluates, so it needs no neutralising.
func WriteXLSX(w io.Writer, t *Table, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.sheet(lang)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("name sheet %q: %w", sheet, err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(t.Columns))
	for i, h := range t.headers(lang) {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
		if err := sw.SetColWidth(i+1, i+1, float64(max(10, min(40, len([]rune(h))+2)))); err != nil {
			return err
		}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := make([]any, len(t.Columns))
	for i, r := range t.Rows {
		for j, c := range t.Columns {
			var v any
			if j < len(r) {
				v = r[j]
			}
			switch x := v.(type) {
			case Text:
				v = x.in(lang)
			case bool:
				v = yesNo[x].in(lang)
			case time.Time:
				if x.IsZero() {
					v = nil
				} else {
					// A spreadsheet date has no zone: excelize counts it
					// from the instant's UTC reading, so give it Vietnam's
					// wall clock as if it were UTC.
					l := local(x)
					wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
					v = excelize.Cell{StyleID: dateStyle, Value: wall}
				}
			case float64:
				if c.Percent {
					v = excelize.Cell{StyleID: pct, Value: x}
				}
			}
			row[j] = v
		}
		addr, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(addr, row); err != nil {
			return fmt.Errorf("write %s XLSX row %d: %w", t.Name, i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

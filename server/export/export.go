// Package export writes the tables leaders download as CSV and XLSX, with
// Vietnamese column headers by default and English on request.
//
// XLSX is written with excelize's stream writer: a province's hamlet table
// (about 860 rows) or a report list of 50,000 rows is written row by row
// without building the workbook in memory.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// Column is one column: its key and headers in both languages.
type Column struct {
	Key      string
	HeaderVI string
	HeaderEN string
	// Percent formats a 0..1 value as a percentage in XLSX.
	Percent bool
}

// Table is a titled grid of values: string, int, float64, bool, time.Time or nil.
type Table struct {
	Name    string // file and sheet name, ASCII
	TitleVI string
	TitleEN string
	Columns []Column
	Rows    [][]any
}

func (t *Table) headers(lang string) []string {
	h := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		h[i] = c.HeaderVI
		if lang == "en" {
			h[i] = c.HeaderEN
		}
	}
	return h
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.Format("2006-01-02 15:04")
	case float64:
		return fmt.Sprintf("%.4f", x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	default:
		return fmt.Sprint(x)
	}
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
				rec[j] = cell(row[j])
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
// frozen, numbers as numbers and coverage as percentages.
func WriteXLSX(w io.Writer, t *Table, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Name
	if sheet == "" {
		sheet = "Sheet1"
	}
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
			case time.Time:
				if x.IsZero() {
					v = nil
				} else {
					v = excelize.Cell{StyleID: dateStyle, Value: x}
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

package importfile

// Workbooks built part by part, for the cases excelize does not write.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// pkg is a package to build: the workbook's body (sheets etc.), its
// relationships, the styles' and shared strings' bodies, sheet bodies,
// and any other part as is.
type pkg struct {
	wbInner string // inside <workbook>
	rels    string // Relationship elements of the workbook
	styles  string // inside <styleSheet>, "" for no styles part
	sst     string // inside <sst>, "" for none
	sheets  map[string]string
	extra   map[string]string
	wbHead  string
}

func (p pkg) bytes() []byte {
	parts := map[string]string{
		"_rels/.rels":                relsRoot,
		"xl/workbook.xml":            xmlHead + `<workbook ` + nsMain + `>` + p.wbInner + `</workbook>`,
		"xl/_rels/workbook.xml.rels": xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + p.rels + `</Relationships>`,
	}
	if p.wbHead != "" {
		parts["xl/workbook.xml"] = p.wbHead
	}
	if p.styles != "" {
		parts["xl/styles.xml"] = xmlHead + `<styleSheet ` + nsMain + `>` + p.styles + `</styleSheet>`
	}
	if p.sst != "" {
		parts["xl/sharedStrings.xml"] = xmlHead + `<sst ` + nsMain + `>` + p.sst + `</sst>`
	}
	for n, b := range p.sheets {
		parts[n] = xmlHead + `<worksheet ` + nsMain + `><sheetData>` + b + `</sheetData></worksheet>`
	}
	for n, b := range p.extra {
		parts[n] = b
	}
	return workbookOf(parts)
}

const (
	relWs  = `<Relationship Id="%s" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="%s"/>`
	relSt  = `<Relationship Id="rSt" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`
	relSST = `<Relationship Id="rSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
)

func excelizeRead(data []byte, sheet string) (s *Sheet, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("excelize panic: %v", r)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{ShortDatePattern: "yyyy-mm-dd"})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetList()[f.GetActiveSheetIndex()]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s = &Sheet{Name: sheet}
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		if len(cells) == 0 {
			continue
		}
		s.Rows = append(s.Rows, cells)
		s.Lines = append(s.Lines, line)
	}
	return s, rows.Error()
}

func oneSheet(styles, sst, data string) []byte {
	return pkg{
		wbInner: `<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>`,
		rels:    fmt.Sprintf(relWs, "rId1", "worksheets/sheet1.xml") + relSt + relSST,
		styles:  styles, sst: sst,
		sheets: map[string]string{"xl/worksheets/sheet1.xml": data},
	}.bytes()
}

func farRight(rows int, withValue, withR bool) []byte {
	var sb strings.Builder
	for i := 1; i <= rows; i++ {
		if withR {
			sb.WriteString(`<row r="` + strconv.Itoa(i) + `">`)
		} else {
			sb.WriteString(`<row>`)
		}
		if withValue {
			sb.WriteString(`<c r="XFD1"><v>1</v></c></row>`)
		} else {
			sb.WriteString(`<c r="XFD1"/></row>`)
		}
	}
	return oneSheet("", "", sb.String())
}

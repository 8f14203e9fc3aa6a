package officefile

import (
	"archive/zip"
	"io"
	"path"
	"sort"
	"strings"
)

// Package is what a zip archive holds: a workbook, another Office or
// OpenDocument file, or other files zipped together.
type Package int

const (
	// PlainZip: a zip archive of other files (a CSV zipped to send it).
	PlainZip Package = iota
	// Workbook: an .xlsx, every part of which Excel writes under xl/.
	Workbook
	// WordDocument: a .docx.
	WordDocument
	// Presentation: a .pptx.
	Presentation
	// OpenSpreadsheet: a LibreOffice/OpenOffice spreadsheet (.ods).
	OpenSpreadsheet
	// OpenDocument: another OpenDocument file (.odt, .odp...).
	OpenDocument
)

// maxMimetype bounds the mimetype part read: OpenDocument's is one line.
const maxMimetype = 256

// PackageOf tells what the zip archive zr holds, from its parts' names
// and an OpenDocument file's mimetype part. With it come the names of the
// files a PlainZip holds (folders left out, sorted), so that a message can
// name the one to take out of it.
func PackageOf(zr *zip.Reader) (Package, []string) {
	names := map[string]bool{}
	var mimetype *zip.File
	for _, f := range zr.File {
		name := strings.TrimPrefix(strings.ReplaceAll(f.Name, "\\", "/"), "/")
		names[name] = true
		if name == "mimetype" {
			mimetype = f
		}
	}
	if mimetype != nil {
		if rc, err := mimetype.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, maxMimetype))
			_ = rc.Close()
			mime := strings.TrimSpace(string(b))
			switch {
			case strings.HasPrefix(mime, "application/vnd.oasis.opendocument.spreadsheet"):
				return OpenSpreadsheet, nil
			case strings.HasPrefix(mime, "application/vnd.oasis.opendocument"):
				return OpenDocument, nil
			}
		}
	}
	switch {
	case names["word/document.xml"]:
		return WordDocument, nil
	case names["ppt/presentation.xml"]:
		return Presentation, nil
	}
	var files []string
	for name := range names {
		if strings.HasPrefix(name, "xl/") {
			return Workbook, nil
		}
		if name != "" && !strings.HasSuffix(name, "/") && !macExtra(name) {
			// A name zipped in a Windows code page is not UTF-8: shown
			// as is, it garbles the message (and its JSON).
			files = append(files, strings.ToValidUTF8(name, "?"))
		}
	}
	sort.Strings(files)
	return PlainZip, files
}

// macExtra: what a Mac's Finder adds to a zip it makes beside each file
// (__MACOSX/._ap.csv, .DS_Store), which is not the file to take out.
func macExtra(name string) bool {
	return strings.HasPrefix(name, "__MACOSX/") || path.Base(name) == ".DS_Store"
}

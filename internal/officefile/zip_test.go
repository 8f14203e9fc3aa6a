package officefile

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func zipOf(t *testing.T, parts ...[2]string) *zip.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p[0])
		require.NoError(t, err)
		_, err = w.Write([]byte(p[1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return zr
}

func TestPackageOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts [][2]string
		want  Package
		files []string
	}{
		{"xlsx", [][2]string{{"[Content_Types].xml", ""}, {"xl/workbook.xml", ""}}, Workbook, nil},
		{"ods", [][2]string{{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, {"content.xml", ""}}, OpenSpreadsheet, nil},
		{"odt", [][2]string{{"mimetype", "application/vnd.oasis.opendocument.text\n"}, {"content.xml", ""}}, OpenDocument, nil},
		{"docx", [][2]string{{"[Content_Types].xml", ""}, {"word/document.xml", ""}}, WordDocument, nil},
		{"pptx", [][2]string{{"ppt/presentation.xml", ""}}, Presentation, nil},
		{"zipped csv in a folder", [][2]string{{"danh-sach/", ""}, {"danh-sach/ap.csv", "code,name"}, {"doc-truoc.txt", ""}}, PlainZip, []string{"danh-sach/ap.csv", "doc-truoc.txt"}},
		{"a mimetype that is not OpenDocument", [][2]string{{"mimetype", "text/plain"}}, PlainZip, []string{"mimetype"}},
		{"empty", nil, PlainZip, nil},
		{"zipped on a Mac", [][2]string{{"ap.csv", "code,name"}, {"__MACOSX/", ""}, {"__MACOSX/._ap.csv", "\x00\x05\x16\x07"}, {".DS_Store", ""}}, PlainZip, []string{"ap.csv"}},
		{"a name in a Windows code page", [][2]string{{"Danh s\xe1ch.csv", "code,name"}}, PlainZip, []string{"Danh s?ch.csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, files := PackageOf(zipOf(t, tc.parts...))
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.files, files)
		})
	}
}

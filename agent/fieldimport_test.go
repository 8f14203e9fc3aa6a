package agent_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fiList is `household list` as text.
func fiList(t *testing.T, bin, dir string) string {
	r := fiRun(t, bin, "household", "list", "--data-dir", dir)
	require.Equal(t, 0, r.code, r.stderr)
	return r.stdout
}

// F4: a folder given for the file: the internal-fault message ("thử lại,
// báo cán bộ CNTT", with "is a directory" in English).
func TestFieldImportOfAFolderSaysItIsAFolder(t *testing.T) {
	bin, dir, _ := fiLaptop(t)
	folder := filepath.Join(t.TempDir(), "Danh sach ho")
	require.NoError(t, os.Mkdir(folder, 0o755))
	r := fiRun(t, bin, "import", folder, "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code)
	require.NotContains(t, r.stderr, "cán bộ CNTT")
	require.NotContains(t, r.stderr, "is a directory")
	require.Contains(t, r.stderr, "thư mục")
}

// F5: a LibreOffice .ods (or a .docx) is "a damaged .xlsx, or one with a
// password: save it again in Excel".
func TestFieldImportOfAnODSFileSaysToSaveItAsXLSX(t *testing.T) {
	bin, dir, _ := fiLaptop(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<office:document-content/>"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	r := fiRun(t, bin, "import", fiFile(t, "ds.ods", buf.Bytes()), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code)
	require.NotContains(t, r.stderr, "mật khẩu", "an .ods file is no xlsx with a password")
	require.Contains(t, r.stderr, ".ods")
}

// F6: an empty file (0 bytes) is "no header row in the first 20 lines:
// add a header row".
func TestFieldImportOfAnEmptyFileSaysItIsEmpty(t *testing.T) {
	bin, dir, _ := fiLaptop(t)
	r := fiRun(t, bin, "import", fiFile(t, "ds.csv", nil), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code)
	require.True(t, strings.Contains(r.stderr, "trống") || strings.Contains(r.stderr, "rỗng"), "the message should say the file is empty")
}

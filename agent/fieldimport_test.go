package agent_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// fiList is `household list` as text.
func fiList(t *testing.T, bin, dir string) string {
	r := fiRun(t, bin, "household", "list", "--data-dir", dir)
	require.Equal(t, 0, r.code, r.stderr)
	return r.stdout
}

// F1: Excel on a Windows not set to Vietnamese, "CSV (Comma delimited)":
// every letter outside its code page becomes "?". The header typed without
// marks is recognised, and the names are stored as "Nguy?n V?n An".
func TestFieldImportRefusesLettersExcelTurnedIntoQuestionMarks(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	csv := "STT,Ho ten chu ho,Dia chi,SDT,Ap\r\n" +
		"1,Nguy?n V?n An,S? 1 t? 2,0912345678," + h + "\r\n"
	r := fiRun(t, bin, "import", fiFile(t, "ds.csv", []byte(csv)), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	list := fiList(t, bin, dir)
	require.NotContains(t, list, "Nguy?n", "a name with its letters replaced by ? is stored as is:\n"+list)
	require.NotEqual(t, 0, r.code)
}

// F2: a list typed with a VNI or TCVN3 (ABC) font: Excel holds Latin-1
// letters that only the font shows as Vietnamese. Stored as mojibake; with
// the header in that font too, the message speaks of a missing header.
func TestFieldImportRefusesTextTypedInAVNIOrTCVN3Font(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"STT", "Ho ten chu ho", "Dia chi", "SDT", "Ap"}))
	require.NoError(t, f.SetSheetRow(sh, "A2", &[]any{1, "Nguyeãn Vaên An", "Soá 1", "0912345678", h})) // VNI-Times
	require.NoError(t, f.SetSheetRow(sh, "A3", &[]any{2, "NguyÔn V¨n B×nh", "Sè 2", "0912345679", h}))  // .VnTime (TCVN3)
	file := filepath.Join(t.TempDir(), "vni.xlsx")
	require.NoError(t, f.SaveAs(file))
	r := fiRun(t, bin, "import", file, "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	list := fiList(t, bin, dir)
	require.NotContains(t, list, "Nguyeãn Vaên An", "VNI text stored as is:\n"+list)
	require.NotContains(t, list, "NguyÔn V¨n B×nh", "TCVN3 text stored as is:\n"+list)
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "VNI")

	// The header in the font too: "no header row", not the font.
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"STT", "Hoï teân chuû hoä", "Ñòa chæ", "SÑT", "AÁp"}))
	require.NoError(t, f.SaveAs(file))
	f.Close()
	r = fiRun(t, bin, "import", file, "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.Contains(t, r.stderr, "VNI", "the message should name the font's encoding")
}

// F3: the duplicate check folds the marks away: Lê Thị Hoa and Lê Thị
// Hòa (Tâm/Tám, Hải/Hai, Lan/Lân), two households of the same tổ without
// a phone, are one household to it. On a second list the new one is
// counted among "households already on this laptop", not imported, its
// line not shown.
func TestFieldImportKeepsHouseholdsWhoseNamesDifferOnlyInTheirMarks(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	first := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;SĐT;Ấp\r\n1;Lê Thị Hoa;Tổ 3;;" + h + "\r\n"
	r := fiRun(t, bin, "import", fiFile(t, "dot1.csv", []byte(first)), "--data-dir", dir)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	second := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;SĐT;Ấp\r\n1;Lê Thị Hòa;Tổ 3;;" + h + "\r\n2;Nguyễn Văn Tám;Tổ 3;;" + h + "\r\n3;Nguyễn Văn Tâm;Tổ 3;;" + h + "\r\n"
	r = fiRun(t, bin, "import", fiFile(t, "dot2.csv", []byte(second)), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	list := fiList(t, bin, dir)
	require.Contains(t, list, "Lê Thị Hòa", "Lê Thị Hòa not imported: taken for Lê Thị Hoa:\n"+list)
	require.Contains(t, list, "Nguyễn Văn Tâm", "Nguyễn Văn Tâm refused: taken for Nguyễn Văn Tám:\n"+list)
}

// F4: a folder given for the file: the internal-fault message ("thử lại,
// báo cán bộ CNTT", with "is a directory" in English).
func TestFieldImportOfAFolderSaysItIsAFolder(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	bin, dir, _ := fiLaptop(t)
	r := fiRun(t, bin, "import", fiFile(t, "ds.csv", nil), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code)
	require.True(t, strings.Contains(r.stderr, "trống") || strings.Contains(r.stderr, "rỗng"), "the message should say the file is empty")
}

// F7: a workbook written by a program (openpyxl, excelize, a web export)
// and never opened in Excel holds formulas without their value: the phone
// ="0"&E2 reads as empty, the household comes in without its phone.
func TestFieldImportDoesNotDropAFormulaWithoutItsValue(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sh, "A1", &[]any{"STT", "Họ tên chủ hộ", "Ấp", "SĐT", "SĐT gốc"}))
	require.NoError(t, f.SetSheetRow(sh, "A2", &[]any{1, "Nguyễn Văn An", h, nil, 912345678}))
	require.NoError(t, f.SetCellFormula(sh, "D2", `"0"&E2`))
	file := filepath.Join(t.TempDir(), "ds.xlsx")
	require.NoError(t, f.SaveAs(file))
	f.Close()
	r := fiRun(t, bin, "import", file, "--map", "SĐT gốc=-", "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	list := fiList(t, bin, dir)
	if strings.Contains(list, "Nguyễn Văn An") {
		require.Contains(t, list, "0912345678", "imported without its phone:\n"+list)
	}
	require.NotEqual(t, 0, r.code)
}

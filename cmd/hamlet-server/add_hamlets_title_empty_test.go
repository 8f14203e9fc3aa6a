package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAddHamletsFileWithoutHamletsRefused: a file holding no hamlet (a
// header alone, a header over rows left blank, blank rows, an empty sheet
// saved by mistake) was taken with "Đã thêm 0 ấp/khóm." and exit 0: read as
// done, nothing done. It is refused, saying what a line holds.
func TestAddHamletsFileWithoutHamletsRefused(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file string }{
		{"header over blank rows", "Mã ấp,Tên ấp\n,,\n,,\n"},
		{"header alone", "\ufeffMã ấp,Tên ấp,Loại\r\n"},
		{"blank rows", ",,\n,,\n"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
			t.Logf("%q: code %d: %s%s", tc.file, code, out, errOut)
			assert.NotEqual(t, 0, code, "a file of no hamlet taken as done")
			assert.Contains(t, errOut, "không có ấp/khóm nào")
			assert.Contains(t, errOut, "mỗi dòng là mã,tên[,loại]")
			code, _, errOut = st.cli(t, "unit", "add-hamlets", "--file", p, "--lang", "en")
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, "holds no hamlet")
		})
	}
	// Blank rows above the hamlets, no header: read as the hamlets.
	if err := os.WriteFile(p, []byte("\ufeff,,\r\n,,\r\n32002-41,Ấp 41\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := st.ok(t, "unit", "add-hamlets", "--file", p)
	assert.Contains(t, out, "Đã thêm 1 ấp/khóm.")
}

// TestAddHamletsTitleAboveHeaderTold: the official lists put a title
// (DANH SÁCH ẤP/KHÓM XÃ ...) above the header. It was refused as
// '"DANH SÁCH ..." không phải mã ấp/khóm', as if it were a hamlet whose
// code is wrong; the operator is told it is above the header and to delete
// it, so that the header is the first line.
func TestAddHamletsTitleAboveHeaderTold(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file, line string }{
		{"title over header", "DANH SÁCH ẤP/KHÓM XÃ TÂN HƯNG,,\nMã ấp,Tên ấp,Loại\n32002-45,Ấp 45,ap\n", "dòng 2"},
		{"title in one cell", "DANH SÁCH ẤP/KHÓM XÃ TÂN HƯNG\nMã ấp,Tên ấp\n32002-46,Ấp 46\n", "dòng 2"},
		{"two titles and a blank row", "\ufeffDANH SÁCH ẤP/KHÓM\r\n,,\r\nXã Tân Hưng,,\r\nMã ấp,Tên ấp\r\n32002-48,Ấp 48\r\n", "dòng 4"},
		{"title over Mã số", "DANH SÁCH ẤP/KHÓM XÃ TÂN HƯNG,\nMã số,Tên ấp\n32002-47,Ấp 47\n", "dòng 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, "dòng 1: dòng này nằm trên dòng tên cột ("+tc.line+")")
			assert.Contains(t, errOut, "hãy xoá nó")
			code, _, errOut = st.cli(t, "unit", "add-hamlets", "--file", p, "--lang", "en")
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, "is above the header")
		})
	}
	// A first line whose code is wrong, no header under it: told as a code.
	if err := os.WriteFile(p, []byte("32002-4,Ấp 4\n32002-41,Ấp 41\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, `"32002-4" không phải mã ấp/khóm`)
}

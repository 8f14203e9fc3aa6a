package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAddHamletsOneCellTitleAboveHeader: a title of one cell that starts
// like a column's name (Tên xã: ..., Mã xã: ...) above the header was told
// to be a header whose code column is to be moved first, or the header was
// said to be on the title's line: it is a title, to be deleted, and the
// header is the line that names the columns.
func TestAddHamletsOneCellTitleAboveHeader(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file, want string }{
		{"Tên xã title", "Tên xã: Tân Hưng,,\nMã ấp,Tên ấp\n32002-58,Ấp 58\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)"},
		{"Mã xã subtitle", "DANH SÁCH,,\nMã xã: 32002,,\nMã ấp,Tên ấp\n32002-59,Ấp 59\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

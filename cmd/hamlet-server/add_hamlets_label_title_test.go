package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAddHamletsLabelValueTitleAboveHeader: the title lines of an official
// list often put a label and its value in two cells (Tên xã: | Tân Hưng,
// Mã xã: | 32002). d082108 tells a title of one cell as a title, but such
// a line of two cells was still taken for a header: told to move its code
// column first, or given as the header's line, so the operator deleted the
// title and met the same wrong advice about the real header.
func TestAddHamletsLabelValueTitleAboveHeader(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file, want, lang string }{
		{"Tên xã: | Tân Hưng", "Tên xã:,Tân Hưng,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"Mã xã: | 32002 under a title", "DANH SÁCH ẤP/KHÓM,,\nMã xã:,32002,\nMã ấp,Tên ấp,Loại\n32002-59,Ấp 59,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 3)", ""},
		{"Mã xã: | 32002 first", "Mã xã:,32002,\nMã ấp,Tên ấp,Loại\n32002-59,Ấp 59,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"Mã xã | 32002 first", "Mã xã,32002,\nMã ấp,Tên ấp,Loại\n32002-59,Ấp 59,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"--lang en", "Tên xã:,Tân Hưng,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "line 1: this line is above the header (line 2)", "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"unit", "add-hamlets", "--file", p}
			if tc.lang != "" {
				args = append(args, "--lang", tc.lang)
			}
			code, _, errOut := st.cli(t, args...)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

// TestAddHamletsLabelValueTitleWithoutItsOwnCell: 979e9c1 tells a label
// and its value in two cells as a title when the label ends in a colon or
// the value is a commune's code. An official list's title line as often
// puts label and value in one cell (Mã xã: 32002 | Tên xã: Tân Hưng), or
// leaves the colon out (Tên xã | Tân Hưng): both were still taken for a
// header, and the operator told to rename "Mã xã: 32002" Mã ấp, or to move
// the code column first, advice that fits neither line.
func TestAddHamletsLabelValueTitleWithoutItsOwnCell(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file, want, lang string }{
		{"Mã xã: 32002 | Tên xã: Tân Hưng", "Mã xã: 32002,Tên xã: Tân Hưng,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"Tên xã: Tân Hưng | Huyện: Cái Nước", "Tên xã: Tân Hưng,Huyện: Cái Nước,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"Tên xã | Tân Hưng", "Tên xã,Tân Hưng,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "dòng 1: dòng này nằm trên dòng tên cột (dòng 2)", ""},
		{"Tên phường | Phường 4, --lang en", "Tên phường,Phường 4,\nMã ấp,Tên ấp,Loại\n32002-58,Ấp 58,ap\n", "line 1: this line is above the header (line 2)", "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"unit", "add-hamlets", "--file", p}
			if tc.lang != "" {
				args = append(args, "--lang", tc.lang)
			}
			code, _, errOut := st.cli(t, args...)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

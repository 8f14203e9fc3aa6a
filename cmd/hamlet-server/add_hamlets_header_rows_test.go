package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAddHamletsCodeHeaderOverRowsBeforeTheCodes: a header led by the code's
// column under another name (Mã số) over rows that are not the hamlets yet
// (a blank row Excel kept, the numbering row official forms put under a
// header, a title) and then the hamlets' codes: the code's column is first,
// so the operator is told to head it Mã ấp, never to move it first.
func TestAddHamletsCodeHeaderOverRowsBeforeTheCodes(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file string }{
		{"blank row", "Mã số,Tên ấp\n,\n32002-41,Ấp 41\n"},
		{"spaces, BOM, CRLF", "\ufeff Mã số , Tên ấp \r\n  32002-41 , Ấp 41 \r\n"},
		{"numbering row (1),(2)", "Mã số,Tên ấp\n(1),(2)\n32002-41,Ấp 41\n"},
		{"numbering row 1,2", "Mã số,Tên ấp\n1,2\n32002-41,Ấp 41\n"},
		{"title row", "Mã số,Tên ấp\nXã Tân Hưng,\n32002-41,Ấp 41\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			assert.NotEqual(t, 0, code)
			assert.NotContains(t, errOut, "hãy đưa cột mã lên đầu", "the code's column is first")
			assert.Contains(t, errOut, "hãy đặt tên cột đó là Mã ấp")
		})
	}
}

// TestAddHamletsHeaderUnderBlankRows: a row left blank above the header
// (Excel writes it ",,") does not make the header a hamlet: "Mã ấp,Tên ấp"
// under it was refused as ""Mã ấp" không phải mã ấp/khóm".
func TestAddHamletsHeaderUnderBlankRows(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ name, file, want string }{
		{"blank row, right header", ",\nMã ấp,Tên ấp\n32002-41,Ấp 41\n", ""},
		{"BOM, blank rows, right header", "\ufeff,,\r\n,,\r\nMã ấp,Tên ấp,Loại\r\n32002-42,Khóm 42,khom\r\n", ""},
		{"blank row, code under another name", ",\nMã số,Tên ấp\n32002-43,Ấp 43\n", "hãy đặt tên cột đó là Mã ấp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
			t.Logf("%q: code %d: %s", tc.file, code, errOut)
			if tc.want == "" {
				assert.Equal(t, 0, code, errOut)
				return
			}
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

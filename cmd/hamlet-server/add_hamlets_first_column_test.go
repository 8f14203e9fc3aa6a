package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHamletsHeaderFirstColumnTold: what add-hamlets tells of a
// header must match what the first column holds. A column of the
// communes' codes (Mã xã) is not "the hamlet code under another name"
// (renamed Mã ấp, it would still hold 32002, not a hamlet code), nor one
// of households' codes (a households file given by mistake): 2e45391 told
// both to head the column Mã ấp.
func TestHamletsHeaderFirstColumnTold(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, tc := range []struct{ file, not string }{
		{"Mã xã,Tên ấp\n32002,Ấp 41\n", "hãy đặt tên cột đó là Mã ấp"},
		{"Mã hộ,Tên chủ hộ\nH001,Nguyễn Văn A\n", "hãy đặt tên cột đó là Mã ấp"},
	} {
		if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
		t.Logf("%q: code %d: %s", tc.file, code, errOut)
		assert.NotEqual(t, 0, code)
		assert.NotContains(t, errOut, tc.not, "%q", tc.file)
	}
}

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAddHamletsMergedTypeNotReadAsAp: a Loại column merged over several
// rows in Excel is saved with the type in the first row only; the rows
// below were read as ấp (the default) with exit 0, a khóm added as an ấp.
func TestAddHamletsMergedTypeNotReadAsAp(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	if err := os.WriteFile(p, []byte("Mã ấp,Tên ấp,Loại\n32002-56,Khóm 56,khom\n32002-57,Khóm 57,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
	t.Logf("code %d: %s%s", code, out, errOut)
	assert.NotEqual(t, 0, code, "Khóm 57, its type cell left blank by a merge, added as an ấp")
	assert.Contains(t, errOut, "dòng 3: ấp/khóm 32002-57 chưa ghi loại nhưng dòng 2 có ghi")
	assert.Contains(t, errOut, "hãy bỏ gộp")
	code, _, errOut = st.cli(t, "unit", "add-hamlets", "--file", p, "--lang", "en")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "line 3: hamlet 32002-57 has no type but line 2 gives one")
	// Every type written, or none: taken as before.
	if err := os.WriteFile(p, []byte("Mã ấp,Tên ấp,Loại\n32002-56,Khóm 56,khom\n32002-57,Khóm 57,khom\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	assert.Contains(t, st.ok(t, "unit", "add-hamlets", "--file", p), "Đã thêm 2 ấp/khóm.")
	if err := os.WriteFile(p, []byte("Mã ấp,Tên ấp,Loại\n32002-61,Ấp 61,\n32002-62,Ấp 62,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	assert.Contains(t, st.ok(t, "unit", "add-hamlets", "--file", p), "Đã thêm 2 ấp/khóm.")
}

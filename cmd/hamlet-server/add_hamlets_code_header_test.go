package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Review 170 of e788211: a header led by the code's column under a name
// add-hamlets does not know as the code's (Mã số, Mã ĐVHC, Mã đơn vị, Mã
// ấp khóm) is told "its first column is not the hamlet code: move the code
// column first", though it is first: the operator looks for a column to
// move. What to do is to head it Mã ấp.
func TestAddHamletsCodeHeaderFirstIsNotToldToMove(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	for _, head := range []string{"Mã số,Tên ấp", "Mã ĐVHC,Tên", "Mã đơn vị,Tên đơn vị", "Mã ấp khóm,Tên ấp khóm"} {
		require.NoError(t, os.WriteFile(p, []byte(head+"\n32002-41,Ấp 41\n"), 0o600))
		code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
		require.NotEqual(t, 0, code)
		t.Logf("%q: %s", head, errOut)
		require.NotContains(t, errOut, "hãy đưa cột mã lên đầu", "%q: the code's column is first: %s", head, errOut)
		require.Contains(t, errOut, "hãy đặt tên cột đó là Mã ấp", "%q: %s", head, errOut)
	}
	// The hamlet's code not first, under a commune's code: told to move it.
	require.NoError(t, os.WriteFile(p, []byte("Mã xã,Mã ấp,Tên ấp\n32002,32002-41,Ấp 41\n"), 0o600))
	code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "hãy đưa cột mã lên đầu", errOut)
	// Headed Mã ấp, the same file is taken.
	require.NoError(t, os.WriteFile(p, []byte("Mã ấp,Tên ấp\n32002-41,Ấp 41\n"), 0o600))
	st.ok(t, "unit", "add-hamlets", "--file", p)
}

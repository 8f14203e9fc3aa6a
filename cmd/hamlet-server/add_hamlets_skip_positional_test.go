package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 167's review of 1d8108b: a header that names neither the name
// nor the type is read by position (code,x,y), though it names an STT or
// a note column: "Mã ấp,STT" adds the hamlet named "7", and "Mã ấp,Ấp,
// Ghi chú" reads the notes as the type. An STT or note column named is
// never the name or the type. A header whose first column is not the
// code's (STT,Mã ấp,…; Tên ấp,Mã ấp) was told "STT is not a hamlet code":
// it now says to move the code column first.
func TestAddHamletsSTTIsNeverTheName(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	p := filepath.Join(t.TempDir(), "h.csv")
	require.NoError(t, os.WriteFile(p, []byte("Mã ấp,STT\n32002-40,7\n"), 0o600))
	code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
	var units []struct{ Code, Name, Type string }
	require.NoError(t, json.Unmarshal([]byte(st.ok(t, "--json", "unit", "list", "--commune", "32002")), &units))
	for _, u := range units {
		require.False(t, u.Code == "32002-40" && u.Name == "7", "the STT read as the hamlet's name (exit %d, %s)", code, errOut)
	}
	require.NotEqual(t, 0, code)
	for _, body := range []string{"STT,Mã ấp,Tên ấp\n1,32002-41,Ấp 41\n", "Tên ấp,Mã ấp\nẤp 42,32002-42\n"} {
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
		require.NotEqual(t, 0, code, "%q", body)
		require.Contains(t, errOut, "hãy đưa cột mã lên đầu", "%q: %s", body, errOut)
	}
}

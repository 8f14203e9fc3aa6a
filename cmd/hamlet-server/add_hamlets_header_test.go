package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 164's review of 3b8cc18: a header with the name third and a type
// column it did not know by its name (Loại ấp/khóm, Kiểu, Loại hình) had
// the type dropped, every khóm added as an ấp, with no word said; a name
// column it did not know (Tên gọi) beside a named type read the STT as
// the name; a note column (Ghi chú) was read as the type. Each is read,
// or refused naming the column.
func TestAddHamletsHeaderColumnsAsNamed(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	file := func(body string) string {
		p := filepath.Join(t.TempDir(), "h.csv")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	for _, tc := range []struct{ body, code, name, typ string }{
		{"Mã,STT,Tên,Loại ấp/khóm\r\n32002-20,1,Khóm 20,khom\r\n", "32002-20", "Khóm 20", "khom"},
		{"\ufeffMã ấp/khóm;STT;Tên ấp/khóm;Loại ấp/khóm\r\n32002-21;1;Khóm 21;khom\r\n", "32002-21", "Khóm 21", "khom"},
		{"Ma,STT,Ten,Loai ap/khom\n32002-22,1,Khom 22,khom\n", "32002-22", "Khom 22", "khom"},
		{"Mã,STT,Tên,Loại hình\n32002-23,1,Khóm 23,khom\n", "32002-23", "Khóm 23", "khom"},
		{"Mã,STT,Tên gọi,Loại\n32002-24,1,Khóm 24,khom\n", "32002-24", "Khóm 24", "khom"},
		{"Mã,Tên,Ghi chú\n32002-25,Ấp 25,mới tách năm 2024\n", "32002-25", "Ấp 25", "ap"},
		{"Mã,Tên,STT\n32002-26,Ấp 26,1\n", "32002-26", "Ấp 26", "ap"},
	} {
		code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", file(tc.body))
		var units []struct{ Code, Name, Type string }
		require.NoError(t, json.Unmarshal([]byte(st.ok(t, "--json", "unit", "list", "--commune", "32002")), &units))
		var got *struct{ Code, Name, Type string }
		for i := range units {
			if units[i].Code == tc.code {
				got = &units[i]
			}
		}
		if code != 0 { // refused: the column is named, nothing added
			require.Contains(t, errOut, "cột", "%q: %s", tc.body, errOut)
			require.Nil(t, got, "%q: added on a refusal", tc.body)
			continue
		}
		require.NotNil(t, got, "%q: %s", tc.body, out)
		require.Equal(t, tc.name, got.Name, "%q", tc.body)
		require.Equal(t, tc.typ, got.Type, "%q: the type as the file says", tc.body)
	}
}

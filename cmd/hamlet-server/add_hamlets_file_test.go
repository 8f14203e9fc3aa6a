package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 156: the hamlets file of unit add-hamlets --file had its own
// comma split: a file saved with semicolons (Excel on a Windows set to
// Vietnamese), with a BOM, or with a cleared row was refused, in English
// ("want code,name[,type]") or with the app's "pick the hamlet again".
// It is now read as the units files are, and its mistakes name the line
// in the operator's language.
func TestAddHamletsFileAsExcelWritesIt(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	file := func(body string) string {
		p := filepath.Join(t.TempDir(), "h.csv")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	for _, body := range map[string]string{
		"semicolons":  "code;name;type\r\n32002-05;Khóm 5;khom\r\n",
		"BOM":         "\ufeffcode,name,type\r\n32002-06,Khóm 6,khom\r\n",
		"cleared row": "code,name,type\r\n32002-07,Khóm 7,khom\r\n,,\r\n",
		"no header":   "32002-08,Khóm 8\n",
		"quoted name": "code,name\n32002-09,\"Ấp 9, Kênh Xáng\"\n",
		// Helper 160: files read before schema.ParseHamlets must still be.
		"vietnamese header":  "code,tên,loại\n32002-11,Khóm 11,khom\n",
		"other name header":  "code,hamlet_name,type\n32002-12,Khóm 12,khom\n",
		"vietnamese header2": "Mã ấp,Tên ấp,Loại\n32002-13,Khóm 13,khom\n",
		// Helper 187: a header naming columns not known (code,x,y) is
		// refused, not read by position (TestAddHamletsHeaderNamingNoColumnRefused).
		"unnamed columns": "code,tên,loại\n32002-14,Khóm 14,khom\n",
	} {
		st.ok(t, "unit", "add-hamlets", "--file", file(body))
	}
	list := st.ok(t, "unit", "list", "--commune", "32002")
	for _, c := range []string{"32002-05", "32002-06", "32002-07", "32002-08", "Ấp 9, Kênh Xáng", "Khóm 11", "Khóm 12", "Khóm 13", "Khóm 14"} {
		require.Contains(t, list, c)
	}
	var units []struct{ Code, Type string }
	require.NoError(t, json.Unmarshal([]byte(st.ok(t, "--json", "unit", "list", "--commune", "32002")), &units))
	for _, u := range units {
		if u.Code == "32002-11" || u.Code == "32002-12" || u.Code == "32002-13" || u.Code == "32002-14" {
			require.Equal(t, "khom", u.Type, u.Code)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{"code,name\n32002-1,Khóm 1\n", "dòng 2"},
		{"code,name\n32002-10,\n", "chưa có tên"},
		{"code,name,type\n32002-10,Khóm 10,xom\n", "loại \"xom\""},
		{"code,name\n32002-10,Khóm 10\n32002-10,Khóm Mười\n", "đã có ở dòng 2"},
		{"code\n32002-10\n", "chưa có tên"},
		// Helper 161: a quote at a name's start swallowed the rest of the
		// file (taken lazily); a quote is told with its line, as the
		// units files tell it.
		{"code,name,type\n32002-10,Khóm 10,khom\n32002-15,\"Cây Dừa\" Khóm 15,khom", "dấu ngoặc kép"},
		{"32002-10,Ấp 10 \"Cây Dừa\"\n", "dấu ngoặc kép"},
	} {
		code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", file(tc.body))
		require.NotZero(t, code, out)
		require.Contains(t, errOut, tc.want)
		require.NotContains(t, errOut, "want code")
		require.NotContains(t, errOut, "chọn lại")
	}
	require.NotContains(t, st.ok(t, "unit", "list", "--commune", "32002"), "32002-10", "nothing added on a refusal")
}

// Helper 187: a header naming neither the name nor the type (Mã ấp,Số
// hộ,Ấp: the commune's list with its household counts) was read by
// position: each hamlet was added named by its household count. Such a
// header is refused, in the operator's language, saying how to head the
// columns; nothing is added.
func TestAddHamletsHeaderNamingNoColumnRefused(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	for _, body := range []string{
		"Mã ấp,Số hộ\n32002-10,120\n32002-11,95\n", // added as hamlets named 120 and 95
		"code,x,y\n32002-10,Ấp 10,ap\n",
	} {
		p := filepath.Join(t.TempDir(), "h.csv")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
		require.NotZero(t, code, "%q was read: %s", body, st.ok(t, "unit", "list", "--commune", "32002"))
		require.Contains(t, errOut, "dòng 1", body)
		require.Contains(t, errOut, "Tên ấp", "says how to head the name column")
		code, out, errOut := st.cli(t, "--lang", "en", "unit", "add-hamlets", "--file", p)
		require.NotZero(t, code, out)
		require.Contains(t, errOut, "line 1")
		require.Contains(t, errOut, "name")
	}
	list := st.ok(t, "unit", "list", "--commune", "32002")
	require.NotContains(t, list, "32002-10", "nothing added on a refusal")
	require.NotContains(t, list, "120")
}

// TestAddHamletsHeaderOfTheHamletsWord: a commune's list heads its names'
// column with the hamlet's word as often as Tên ấp (Ấp, Ấp/Khóm, in
// English hamlet). Read by position, such a file was added right until
// 05dddb4 read headers by name alone, which refused it ("không rõ "Ấp" là
// gì"). The column is the names' when no column is headed as a name; the
// list with its household counts (Mã ấp,Số hộ,Ấp) is refused for its
// count column, named, not read as the names.
func TestAddHamletsHeaderOfTheHamletsWord(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	for _, tc := range []struct{ body, code, name, typ string }{
		{"Mã ấp,Ấp\n32002-10,Ấp 10\n", "32002-10", "Ấp 10", "ap"},
		{"Mã ấp,Ấp/Khóm,Loại\n32002-11,Khóm 11,khom\n", "32002-11", "Khóm 11", "khom"},
		{"code,hamlet\n32002-12,Ấp 12\n", "32002-12", "Ấp 12", "ap"},
	} {
		p := filepath.Join(t.TempDir(), "h.csv")
		require.NoError(t, os.WriteFile(p, []byte(tc.body), 0o600))
		code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
		require.Zero(t, code, "%q refused: %s%s", tc.body, out, errOut)
		require.Regexp(t, tc.code+`\s+`+tc.name+`\s`, st.ok(t, "unit", "list", "--commune", "32002"), tc.body)
	}
	p := filepath.Join(t.TempDir(), "h.csv")
	require.NoError(t, os.WriteFile(p, []byte("Mã ấp,Số hộ,Ấp\n32002-20,120,Ấp 20\n32002-21,95,Ấp 21\n"), 0o600))
	code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", p)
	require.NotZero(t, code)
	require.Contains(t, errOut, "dòng 1")
	require.Contains(t, errOut, `"Số hộ"`, "names the column to delete")
	code, _, errOut = st.cli(t, "--lang", "en", "unit", "add-hamlets", "--file", p)
	require.NotZero(t, code)
	require.Contains(t, errOut, `column 2, "Số hộ", is not known`)
	require.NotContains(t, st.ok(t, "unit", "list", "--commune", "32002"), "32002-20", "nothing added on a refusal")
}

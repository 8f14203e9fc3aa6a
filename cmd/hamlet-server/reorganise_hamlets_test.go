package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// units reorganise --hamlets: the file that says where each hamlet of a
// commune split between new ones goes. Its mistakes were told in Go's
// English ("record on line 2: wrong number of fields"), rows of one cell,
// a hamlet listed twice and a code that names no hamlet were passed over
// in silence (the last two: a typo left the hamlet meant unplaced, and
// the operator was told only that it was missing), and the refusal of an
// unplaced hamlet was English too. Each is now told in the operator's
// language with the line to fix, and nothing changes.
func TestReorganiseHamletsFileMistakes(t *testing.T) {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	// Tạ An Khương (32155) is split between the new Tạ An Khương (32155)
	// and Đầm Dơi (32152).
	st.ok(t, "unit", "add-hamlets", "--commune", "32155", "--count", "2")
	file := func(content string) string {
		p := filepath.Join(t.TempDir(), "ap.csv")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"no file: the split commune's hamlets unplaced", "", []string{"32155-01", "32155-02", "--hamlets"}},
		{"one cell", "hamlet_code,commune_code\r\n32155-01\r\n32155-02,32155\r\n", []string{"dòng 2", "số cột"}},
		{"listed twice", "hamlet_code,commune_code\n32155-01,32152\n32155-02,32155\n32155-01,32155\n", []string{"dòng 4", "32155-01", "dòng 2"}},
		{"not a hamlet code", "hamlet_code,commune_code\n32155-1,32152\n32155-02,32155\n", []string{"dòng 2", "32155-1"}},
		{"not a commune code", "hamlet_code,commune_code\n32155-01,3215\n32155-02,32155\n", []string{"dòng 2", "3215"}},
		{"no such hamlet", "hamlet_code,commune_code\n32155-01,32152\n32155-02,32155\n32155-07,32152\n", []string{"32155-07"}},
		{"not a commune of the new tree", "hamlet_code,commune_code\n32155-01,32170\n32155-02,32155\n", []string{"32155-01", "32170"}},
		{"no header", "32155-01,32152\n32155-02,32155\n", []string{"dòng 1", "hamlet_code"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"units", "reorganise"}
			if tc.content != "" {
				args = append(args, "--hamlets", file(tc.content))
			}
			code, out, errOut := st.cli(t, args...)
			require.NotZero(t, code, "%s%s", out, errOut)
			t.Log(errOut)
			for _, w := range tc.want {
				require.Contains(t, errOut, w)
			}
			require.NotContains(t, errOut, "wrong number of fields")
			require.NotContains(t, errOut, "apply reorganisation")
			// Nothing changed: the 2022 tree is still in force.
			require.Contains(t, st.ok(t, "unit", "list", "--commune", "32155"), "32155-02")
		})
	}
	// The right file, with Excel's BOM: applied.
	out := st.ok(t, "units", "reorganise", "--hamlets", file("\ufeffhamlet_code,commune_code\r\n32155-01,32152\r\n32155-02,32155\r\n"))
	require.Contains(t, out, "1 ấp/khóm chuyển xã")
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 152: a units file whose formed_from_codes mistyped 32005 (39990)
// was refused with an English and wrong explanation (32005's hamlets
// "split between several new ones"; a code the server never had is no
// mistake in itself: the 2025 province took in Bạc Liêu's communes); one
// whose new communes swap two old codes (Tân Thuận formed from Tân Tiến's
// code and Tân Tiến from Tân Thuận's) was applied, silently swapping the
// two communes' hamlets. Both are now refused, naming what to fix, in the
// operator's language, and nothing changes.
func TestReorganiseUnitsFileMistakes(t *testing.T) {
	b, err := os.ReadFile(dataFile(t, "camau-2025.csv"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		want   []string
		wantEN string
	}{
		{"unknown predecessor", func(s string) string { return strings.Replace(s, "32005;32002", "39990;32002", 1) },
			[]string{"32005", "32005-01", "32005-02", "formed_from_codes", "gõ sai"}, "No new commune is formed from"},
		{"codes swapped", func(s string) string {
			s = strings.Replace(s, ",32167,32164;32167,", ",32167,32164;32188,", 1)
			return strings.Replace(s, ",32188,32188;32176,", ",32188,32167;32176,", 1)
		}, []string{"32167", "Tân Thuận", "formed_from_codes"}, "is the code of an old commune it is not formed from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newOperatorStore(t, "sqlite")
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2")
			st.ok(t, "unit", "add-hamlets", "--commune", "32167", "--count", "1")
			st.ok(t, "unit", "add-hamlets", "--commune", "32188", "--count", "1")
			bad := tc.edit(string(b))
			require.NotEqual(t, string(b), bad)
			f := filepath.Join(t.TempDir(), "u.csv")
			require.NoError(t, os.WriteFile(f, []byte(bad), 0o600))
			before := st.ok(t, "unit", "list", "--commune", "32167")
			code, out, errOut := st.cli(t, "units", "reorganise", "--file", f)
			t.Log(errOut)
			require.NotZero(t, code, out)
			for _, w := range tc.want {
				require.Contains(t, errOut, w)
			}
			require.NotContains(t, errOut, "split between several")
			require.NotContains(t, errOut, "apply reorganisation")
			require.Equal(t, before, st.ok(t, "unit", "list", "--commune", "32167"), "nothing changed")
			t.Setenv("HAMLET_LANG", "en")
			_, _, errOut = st.cli(t, "units", "reorganise", "--file", f)
			require.Contains(t, errOut, tc.wantEN)
		})
	}
}

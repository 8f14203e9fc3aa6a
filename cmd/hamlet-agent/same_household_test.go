package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 149: household add of a household that is here already (same
// head, hamlet, phone, address) saved it again without a word. It still
// saves (a script may mean it; the command cannot ask), and says which
// household is here already and how to undo the add.
func TestCLISameHouseholdTwiceIsWarned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	first := addHH(t, dir, "Nguyễn Văn Đức") // --phone "0912 345 678"
	r := cli(t, dir, "household", "add", "--hamlet", "32002-01", "--head", "Nguyễn Văn Đức", "--phone", "0912345678", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "household show "+first)
	second := strings.TrimSpace(r.stdout)
	require.Contains(t, r.stderr, "household delete ")
	require.NotContains(t, r.stderr, "household delete "+first)
	list := cli(t, dir, "household", "search", "nguyen van duc")
	require.Contains(t, list.stdout, "2 hộ", second)
	// Another household: no word.
	r = cli(t, dir, "household", "add", "--hamlet", "32002-01", "--head", "Nguyễn Văn Đực", "--phone", "0912345678")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
}

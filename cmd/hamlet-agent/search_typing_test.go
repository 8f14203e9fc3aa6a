package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// household search with the phone written as it was typed at add.
func TestCLISearchByPhoneAsTyped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	addHH(t, dir, "Nguyễn Văn Đức") // --phone "0912 345 678"
	for _, q := range []string{"0912.345.678", "+84912345678", "+84 912 345 678"} {
		r := cli(t, dir, "household", "search", q)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Nguyễn Văn Đức", "search %q", q)
	}
}

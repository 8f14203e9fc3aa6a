package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
)

// migrate-store into a database that already holds a deployment refuses,
// non-zero, in the operator's language (Vietnamese by default), saying
// what to do.
func TestMigrateStoreRefusesNonEmptyTargetInVietnamese(t *testing.T) {
	url := pgtest.FreshDB(t)
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Zero(t, code, errOut)
	code, _, errOut = cli(t, dir, "migrate-store", "--to", url)
	require.Zero(t, code, errOut)

	code, _, errOut = cli(t, dir, "migrate-store", "--to", url)
	require.NotZero(t, code)
	require.Contains(t, errOut, "createdb", "says what to do")
	require.Contains(t, errOut, "đã có dữ liệu", "the refusal is told in Vietnamese: %s", errOut)
	require.NotContains(t, errOut, "already holds", "not in English when the operator reads Vietnamese")
}

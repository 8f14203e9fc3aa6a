package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCLIImportHamletNameOfTwoMergedHamlets: the team covers "Khóm 1" of
// former Phường 4 and "Khóm 1" of former Phường 9, both in ward 32002
// since the 2025 merger. enroll lists them apart; a sheet naming "Khóm 1"
// is refused with both named and what to write instead, in Vietnamese
// and with --lang en; the laptop's names import. It imported every such
// row into one of the two, without a word.
func TestCLIImportHamletNameOfTwoMergedHamlets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	moved := "31999-01"
	require.NoError(t, ts.Admin.ImportUnits(ctx, []schema.AdminUnit{
		{Code: moved, Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: servertest.CommuneA}}))
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, moved)
	require.NoError(t, err)
	l := newLaptop(t, t.TempDir())
	r := l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	t.Log(r.stdout)
	require.Contains(t, r.stdout, "Khóm 1 (Phường 9 cũ)")
	require.Contains(t, r.stdout, "Khóm 1 (Phường 4 cũ)")

	sheet := writeFile(t, "ho.csv", []byte("Họ tên chủ hộ,Ấp,Số điện thoại\n"+
		"Nguyễn Văn Một,Khóm 1,0900000001\n"+
		"Nguyễn Văn Hai,Khóm 2,0900000002\n"))
	r = l.run("import", sheet)
	t.Log(r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code, "nothing is imported while a row is refused")
	require.Contains(t, r.stderr, "dòng 2")
	require.Contains(t, r.stderr, "trùng với 2 ấp/khóm")
	require.Contains(t, r.stderr, moved)
	require.Contains(t, r.stderr, ts.HamletsA[0])
	require.Empty(t, l.heads())
	l.lang = "en"
	r = l.run("import", sheet)
	require.Contains(t, r.stderr, `fits both of your team's hamlets`)
	l.lang = ""

	sheet = writeFile(t, "ho2.csv", []byte("Họ tên chủ hộ,Ấp,Số điện thoại\n"+
		"Nguyễn Văn Một,Khóm 1 (Phường 9 cũ),0900000001\n"+
		"Nguyễn Văn Hai,Khóm 2,0900000002\n"))
	l.must("import", sheet)
	filed := map[string]any{}
	for _, h := range l.list() {
		filed[h.Head] = h.Fields["hamlet_code"]
	}
	require.Equal(t, map[string]any{"Nguyễn Văn Một": moved, "Nguyễn Văn Hai": ts.HamletsA[1]}, filed)
}

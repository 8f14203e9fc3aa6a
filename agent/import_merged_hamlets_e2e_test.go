package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestImportMergedHamletsOfOneName: after the 2025 merger ward 32002
// holds "Khóm 1" of former Phường 4 (32002-01) and "Khóm 1" of former
// Phường 9 (31999-01); the team covers both. A sheet's row naming "Khóm 1"
// could be either: it is refused, saying which two hamlets the name fits
// and to write the one meant (its code, or its name as the laptop lists
// it). It went to one of the two, unsaid: a household of Phường 9's Khóm 1
// filed in Phường 4's, and synced so.
func TestImportMergedHamletsOfOneName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	moved := "31999-01"
	require.NoError(t, ts.Admin.ImportUnits(ctx, []schema.AdminUnit{
		{Code: moved, Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: servertest.CommuneA}}))
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, moved)
	require.NoError(t, err)
	a, _ := realAgent(t, ts, ts.TeamA)
	e, err := a.Enrollment(ctx)
	require.NoError(t, err)
	t.Logf("scope: %+v", e.Scope)
	name := map[string]string{}
	for _, h := range e.Scope {
		name[h.Code] = h.Name
	}

	sheet := &agent.ImportSheet{Rows: [][]string{
		{"Họ tên chủ hộ", "Ấp", "Số điện thoại"},
		{"Nguyễn Văn Một", "Khóm 1", "0900000001"},
		{"Nguyễn Văn Hai", moved, "0900000002"},
		{"Nguyễn Văn Ba", name[moved], "0900000003"},
		{"Nguyễn Văn Bốn", name[ts.HamletsA[0]], "0900000004"},
		{"Nguyễn Văn Năm", "Khóm 2", "0900000005"},
	}}
	res, err := a.Import(ctx, sheet, agent.ImportOptions{SkipBad: true})
	require.NoError(t, err)
	hs, err := a.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	filed := map[string]string{}
	for _, h := range hs {
		filed[h.Str("head_name")] = h.Hamlet
	}
	require.Len(t, res.Refused, 1, "filed: %v", filed)
	ref := res.Refused[0]
	require.Equal(t, 2, ref.Line, "filed: %v", filed)
	msg := ref.Message("vi")
	t.Logf("line %d: %s", ref.Line, msg)
	for _, s := range []string{"Khóm 1", moved, ts.HamletsA[0], name[moved], name[ts.HamletsA[0]]} {
		require.Contains(t, msg, s)
	}
	require.Contains(t, ref.Message("en"), "both")
	require.Equal(t, map[string]string{
		"Nguyễn Văn Hai": moved, "Nguyễn Văn Ba": moved, "Nguyễn Văn Bốn": ts.HamletsA[0], "Nguyễn Văn Năm": ts.HamletsA[1],
	}, filed)
}

package pgstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A team covering two hamlets called "Khóm 1" (32002-01 of former Phường
// 4, 31999-01 moved in from former Phường 9 by the 2025 merger) is told
// them apart at enrollment on either store, as the dashboard names them.
func TestScopeNamesTellMergedHamletsApartOnBothStores(t *testing.T) {
	for store, ts := range bothStores(t) {
		moved := "31999-01"
		require.NoError(t, ts.Admin.ImportUnits(ctx, []schema.AdminUnit{
			{Code: moved, Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: servertest.CommuneA}}), store)
		_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, moved)
		require.NoError(t, err, store)
		m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Phạm Văn E", "member", "")
		require.NoError(t, err, store)
		code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
		require.NoError(t, err, store)
		er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, uuid.New(), "Laptop")
		require.NoError(t, err, store)
		require.Equal(t, 200, status, "%s: %+v", store, eb)
		got := map[string]string{}
		for _, h := range er.Scope {
			got[h.Code] = h.Name
		}
		require.Equal(t, map[string]string{moved: "Khóm 1 (Phường 9 cũ)", ts.HamletsA[0]: "Khóm 1 (Phường 4 cũ)", ts.HamletsA[1]: "Khóm 2"}, got, store)
	}
}

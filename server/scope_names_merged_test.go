package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// After the 2025 merger ward 32002 (An Xuyên) holds "Khóm 1" of former
// Phường 4 (32002-01) and "Khóm 1" of former Phường 9 (31999-01, moved
// keeping its code). A team covering both is told them apart in its
// enrollment and its roster, by the names the dashboard gives them: with
// both called "Khóm 1" the laptop's hamlet lists showed two identical
// entries, and an imported sheet's "Khóm 1" went to one of them unsaid.
func TestScopeNamesTellMergedHamletsApart(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	moved := "31999-01"
	require.NoError(t, ts.Admin.ImportUnits(ctx, []schema.AdminUnit{
		{Code: moved, Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: servertest.CommuneA}}))
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, moved)
	require.NoError(t, err)

	want := map[string]string{
		moved:          "Khóm 1 (Phường 9 cũ)",
		ts.HamletsA[0]: "Khóm 1 (Phường 4 cũ)",
		ts.HamletsA[1]: "Khóm 2",
	}
	m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Phạm Văn E", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, uuid.New(), "Laptop")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	got := map[string]string{}
	for _, h := range er.Scope {
		got[h.Code] = h.Name
	}
	require.Equal(t, want, got, "the enrollment's scope")

	req, err := http.NewRequest(http.MethodGet, ts.URL+"/v1/roster", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+er.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var rr server.RosterResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rr))
	got = map[string]string{}
	for _, h := range rr.Hamlets {
		got[h.Code] = h.Name
	}
	require.Equal(t, want, got, "the roster's hamlets")
}

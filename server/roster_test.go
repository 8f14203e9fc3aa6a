package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// GET /v1/roster names who writes with each replica of the device's own
// team, so the agent names members in conflicts and histories (issue 21,
// item 11); another team's members are not told, nor anything without a
// valid token.
func TestRosterNamesTheTeamOnly(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	enroll := func(team, name string) (servertest.Device, string) {
		m, err := ts.Admin.AddMember(ctx, team, name, "member", "")
		require.NoError(t, err)
		code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
		require.NoError(t, err)
		replica := uuid.New()
		er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, replica, "máy")
		require.NoError(t, err)
		require.Equal(t, 200, status, "%+v", eb)
		return servertest.Device{Replica: replica, Token: er.Token, Enroll: er}, m.ID
	}
	lan, lanID := enroll(ts.TeamA, "Nguyễn Thị Lan")
	_, tamID := enroll(ts.TeamA, "Lê Văn Tám")
	_, _ = enroll(ts.TeamB, "Trần Văn Tư")

	get := func(token string) (*http.Response, server.RosterResponse) {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/v1/roster", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rr server.RosterResponse
		if resp.StatusCode == 200 {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&rr))
		}
		return resp, rr
	}
	resp, rr := get(lan.Token)
	require.Equal(t, 200, resp.StatusCode)
	names := map[string]string{}
	for _, w := range rr.Writers {
		names[w.Member] = w.Name
	}
	require.Equal(t, map[string]string{lanID: "Nguyễn Thị Lan", tamID: "Lê Văn Tám"}, names)
	require.Contains(t, rr.Writers, server.RosterWriter{Replica: lan.Replica.String(), Member: lanID, Name: "Nguyễn Thị Lan"})

	resp, _ = get("")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = get("hmt_not-a-token")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A client written from PROTOCOL.md learns which device stands in the way
// of an enrollment from a field of the error body, not by parsing the
// message, which is English text for logs and may be worded otherwise by
// another server: replica_active names the device still active (revoke it
// first), replica_team the replica's last device.
func TestEnrollRefusalNamesTheDeviceInAField(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)

	post := func(code string) (int, map[string]any) {
		body, err := json.Marshal(syncproto.EnrollRequest{Code: code, ReplicaID: dev.Replica.String(), Label: "máy cũ", Client: "protocol-md"})
		require.NoError(t, err)
		resp, err := http.Post(ts.URL+"/v1/enroll", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var raw struct {
			Error map[string]any `json:"error"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
		return resp.StatusCode, raw.Error
	}

	status, e := post(ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, string(syncproto.CodeReplicaActive), e["code"])
	require.Equal(t, dev.Enroll.DeviceID, e["device_id"], "the body names the active device: %v", e)

	require.NoError(t, ts.Admin.RevokeDevice(t.Context(), dev.Enroll.DeviceID))
	status, e = post(ts.EnrollCode(t, ts.TeamB))
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, string(syncproto.CodeReplicaTeam), e["code"])
	require.Equal(t, dev.Enroll.DeviceID, e["device_id"], "the body names the replica's last device: %v", e)

	// Any other refusal names none.
	status, e = post("ZZZZ-ZZZZ")
	require.Equal(t, http.StatusBadRequest, status)
	require.NotContains(t, e, "device_id")
}

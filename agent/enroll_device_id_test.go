package agent_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The agent takes the device that stands in the way of an enrollment from
// the error body's device_id (PROTOCOL.md §2.4), not from the wording of
// the message, which is English text for logs that another server (or a
// later release) may word otherwise: the volunteer is still told which
// device to have revoked.
func TestEnrollRefusalNamesTheDeviceOfTheBody(t *testing.T) {
	const other = "5b0c6a1e-9d2f-4c1b-8a7e-0f3d2c1b4a59"
	cases := []struct {
		name string
		body map[string]any
	}{
		{"device_id, message worded otherwise", map[string]any{"code": "replica_active", "message": "replica enrolled elsewhere", "device_id": other}},
		{"a server before device_id names it in its message", map[string]any{"code": "replica_active",
			"message": "the replica is active on another device " + other + ": revoke that device first (hamlet-server device revoke --device " + other + ")"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusConflict)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": tc.body})
			}))
			defer srv.Close()

			r := agenttest.New(t)
			_, _, err := r.Enroll(context.Background(), srv.URL, "ABCD-EFGH", "máy thử")
			var se *agent.ServerError
			require.ErrorAs(t, err, &se)
			require.Equal(t, syncproto.CodeReplicaActive, se.Code)
			var ra *agent.ReplicaActiveError
			require.ErrorAs(t, err, &ra, "%v", err)
			require.Equal(t, other, ra.DeviceID)
			require.Contains(t, agent.MessageOf(err, "vi"), "hamlet-server device revoke --device "+other)
			require.Contains(t, agent.MessageOf(err, "en"), "hamlet-server device revoke --device "+other)
		})
	}
}

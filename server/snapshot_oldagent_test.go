package server_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// An agent of the previous release wrote SnapshotRequest as an array header
// of 6 followed by 5 elements (issue 16). Those agents are still in the
// field: a server on loopback must answer those exact bytes with the
// snapshot, as it answers the corrected 5-element form.
func TestOldAgentSnapshotRequestClones(t *testing.T) {
	ts := servertest.Start(t)
	writer := ts.NewDevice(t, ts.TeamA)
	w := ts.Connect(t, writer)
	h := ts.HamletsA[0]
	row := uuid.New()
	wr := servertest.NewWriter(writer.Replica, nil)
	ack, err := w.Push(1, []syncproto.Change{
		wr.Write("households", row, "hamlet_code", syncproto.String(h), h),
		wr.Write("households", row, "head_name", syncproto.String("Trương Văn Bảy"), h),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}

	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		// SnapshotRequest{Head 0, After nil, Limit 0, Scopes []} as the
		// previous release's agent sent it, and as this one does.
		{"previous release: header 6, 5 elements", []byte{0x96, 0x09, 0x00, 0xc0, 0x00, 0x90}},
		{"this release: header 5", []byte{0x95, 0x09, 0x00, 0xc0, 0x00, 0x90}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
			require.NoError(t, c.WS.SetWriteDeadline(time.Now().Add(10*time.Second)))
			require.NoError(t, c.WS.WriteMessage(websocket.BinaryMessage, tc.frame))
			m, err := c.RecvAnswer()
			require.NoError(t, err)
			chunk, ok := m.(*syncproto.SnapshotChunk)
			require.True(t, ok, "want a snapshot chunk, got %#v", m)
			require.False(t, chunk.More)
			var fields []string
			for _, ch := range chunk.Rows {
				if ch.Row == row {
					fields = append(fields, ch.Field)
				}
			}
			require.ElementsMatch(t, []string{"hamlet_code", "head_name"}, fields)
		})
	}
}

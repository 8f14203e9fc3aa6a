package server_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The server reads a snapshot's next chunk before the agent asks for it
// (snapshot_ahead.go). A message the agent sends in between is answered
// first, and the chunk asked for after it reflects it: here the cloning
// device's own edit of a row of the next chunk, which a read made before
// the edit would hold at its old value. The agent would install that old
// value over its own write, acknowledged (agent/clone_rows.go), and no pull
// brings a device its own write back: the laptop would keep the old
// value for good while the server holds the new one.
func TestSnapshotReadAheadAnswersAfterTheMessagesBeforeIt(t *testing.T) {
	ts := servertest.Start(t)
	h := ts.HamletsA[0]
	writer := ts.NewDevice(t, ts.TeamA)
	w := ts.Connect(t, writer)
	wr := servertest.NewWriter(writer.Replica, nil)
	rows := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	slices.SortFunc(rows, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	var written []syncproto.Change
	for i, row := range rows {
		written = append(written, wr.Household(row, h, []string{"Lê Văn Một", "Lê Văn Hai", "Lê Văn Ba"}[i])...)
	}
	ack, err := w.Push(1, written)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}

	cloner := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, cloner)
	require.NoError(t, c.Send(&syncproto.SnapshotRequest{Limit: 1}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	first, ok := m.(*syncproto.SnapshotChunk)
	require.True(t, ok, "want a snapshot chunk, got %#v", m)
	require.True(t, first.More)
	require.Equal(t, rows[0], first.To.Row)

	// The second row's head, corrected by the cloning device itself.
	own := servertest.NewWriter(cloner.Replica, nil)
	for _, ch := range written {
		own.Saw(ch)
	}
	edit := own.Write("households", rows[1], "head_name", syncproto.String("Lê Văn Hai (đã sửa)"), h)
	ack, err = c.Push(1, []syncproto.Change{edit})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)

	require.NoError(t, c.Send(&syncproto.SnapshotRequest{Head: first.Head, After: first.To, Limit: 1}))
	m, err = c.RecvAnswer()
	require.NoError(t, err)
	second, ok := m.(*syncproto.SnapshotChunk)
	require.True(t, ok, "want a snapshot chunk, got %#v", m)
	require.Equal(t, rows[1], second.To.Row)
	var head *syncproto.Change
	for i := range second.Rows {
		if second.Rows[i].Field == "head_name" {
			head = &second.Rows[i]
		}
	}
	require.NotNil(t, head, "the chunk carries the head's name: %+v", second.Rows)
	require.Equal(t, edit.Dot, head.Dot, "the chunk read after the edit holds it, not %q", head.Value)
}

package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A push that names another replica's change is refused (not its own
// replica) and kept, like every refusal, under the dot it named. That
// record is no refusal of the replica's own: its writer pushing the same
// change again after a lost Ack got it answered refused instead of
// duplicate, and the laptop would list a change the server holds as
// refused (review 34b). The server's own refusals of a replica are those
// it gave that replica's changes, never one naming it from elsewhere.
func TestPlantedRefusalDoesNotAnswerTheRealWriter(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	x := newReplica(t, ts, ts.TeamB)
	_, cs := household(a, ts.HamletsA[0], "Nguyễn Văn A")
	require.Equal(t, []syncproto.ResultStatus{1, 1, 1, 1}, statuses(a.push(t, cs...)))
	planted := x.push(t, cs[3])
	require.Equal(t, syncproto.ResultRefused, planted.Results[0].Status)

	again := ts.Connect(t, a.dev)
	ack, err := again.Push(99, cs)
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{syncproto.ResultDuplicate, syncproto.ResultDuplicate, syncproto.ResultDuplicate, syncproto.ResultDuplicate}, statuses(ack),
		"the writer's own changes, pushed again, are the ones the server holds: %+v", ack.Results)
}

package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The sync status names each device's member, and counts as "not yet
// received" only what the device's next pull would bring: a device that
// has just pushed is not behind by its own changes (issue 21, item 18);
// a teammate's laptop is, and one far behind says "more than LagLimit".
func TestSyncStatusCountsWhatADeviceHasToReceive(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	enroll := func(team, name string) servertest.Device {
		m, err := ts.Admin.AddMember(ctx, team, name, "member", "")
		require.NoError(t, err)
		code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
		require.NoError(t, err)
		replica := uuid.New()
		er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, replica, "vm")
		require.NoError(t, err)
		require.Equal(t, 200, status, "%+v", eb)
		return servertest.Device{Replica: replica, Token: er.Token, Enroll: er}
	}
	pusher := enroll(ts.TeamA, "Trương Thị Mỹ Hạnh")
	teammate := enroll(ts.TeamA, "Đỗ Văn Bình")
	elsewhere := enroll(ts.TeamB, "Lê Văn Út")

	c := ts.Connect(t, pusher)
	w := servertest.NewWriter(pusher.Replica, nil)
	push := func(n int) {
		var cs []syncproto.Change
		for i := range n {
			cs = append(cs, w.Household(uuid.New(), ts.HamletsA[0], fmt.Sprintf("Hộ %d", i))...)
		}
		require.NoError(t, c.PushAll(cs, 500, 2))
	}
	// Up to date, and the server knows it (Pull.Durable); then 52 changes.
	_, _, cursor, err := c.PullAll(0)
	require.NoError(t, err)
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: cursor, Durable: cursor}))
	_, err = c.RecvAnswer()
	require.NoError(t, err)
	push(26)

	status := func() map[string]server.DeviceStatus {
		st, err := ts.Admin.SyncStatus(ctx)
		require.NoError(t, err)
		out := map[string]server.DeviceStatus{}
		for _, d := range st.Devices {
			out[d.ID] = d
		}
		return out
	}
	st := status()
	require.Equal(t, "Trương Thị Mỹ Hạnh", st[pusher.Enroll.DeviceID].MemberName)
	require.Equal(t, "vm", st[pusher.Enroll.DeviceID].Label)
	require.Zero(t, st[pusher.Enroll.DeviceID].Lag, "its own 52 changes are not changes it has to receive")
	require.Equal(t, uint64(52), st[teammate.Enroll.DeviceID].Lag, "the teammate's laptop has them to receive")
	require.False(t, st[teammate.Enroll.DeviceID].LagMore)
	require.Zero(t, st[elsewhere.Enroll.DeviceID].Lag, "another team's hamlets are none of its business")

	push(server.LagLimit / 2)
	st = status()
	require.Zero(t, st[pusher.Enroll.DeviceID].Lag)
	require.Equal(t, uint64(server.LagLimit), st[teammate.Enroll.DeviceID].Lag)
	require.True(t, st[teammate.Enroll.DeviceID].LagMore, "counting stops at LagLimit and says so")
}

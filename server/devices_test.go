package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A device revoked by another process (the operator's CLI on the same data
// directory) is refused at its very next message, even when the periodic
// revocation check is off: a push or a pull never goes through after the
// revocation committed.
func TestRevokedElsewhereIsCutAtItsNextMessage(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = -1 }))
	ctx := context.Background()
	for _, msg := range []string{"pull", "push"} {
		t.Run(msg, func(t *testing.T) {
			dev := ts.NewDevice(t, ts.TeamA)
			c := ts.Connect(t, dev)
			cli, err := servertest.Open(ctx, ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1, RevokeCheck: -1})
			require.NoError(t, err)
			require.NoError(t, cli.Admin().RevokeDevice(ctx, dev.Enroll.DeviceID))
			require.NoError(t, cli.Close())

			c.Timeout = 5 * time.Second
			if msg == "pull" {
				_, err = c.Pull(0, 100)
			} else {
				w := servertest.NewWriter(dev.Replica, nil)
				_, err = c.Push(1, []syncproto.Change{w.Write("households", syncproto.RowID{1}, "notes", syncproto.String("x"), ts.HamletsA[0])})
			}
			require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})
			st, err := ts.Admin.SyncStatus(ctx)
			require.NoError(t, err)
			require.Zero(t, st.Head, "nothing pushed after the revocation is stored")
		})
	}
}

// Re-enrolling a replica over HTTP: refused while it is active (the code
// stays usable), accepted once revoked (new device, old token stays
// revoked, PushedSeq carries on), refused for another team.
func TestReenrollReplicaOverHTTP(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	row := syncproto.RowID{7}
	_, err := c.Push(1, []syncproto.Change{
		w.Write("households", row, "head_name", syncproto.String("Hộ thử"), ts.HamletsA[0]),
		w.Write("households", row, "hamlet_code", syncproto.String(ts.HamletsA[0]), ts.HamletsA[0]),
	})
	require.NoError(t, err)
	c.Close()

	code := ts.EnrollCode(t, ts.TeamA)
	_, status, eb, err := servertest.Enroll(ctx, ts.URL, code, dev.Replica, "máy cũ")
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, syncproto.CodeReplicaActive, eb.Error.Code)
	require.Contains(t, eb.Error.Message, dev.Enroll.DeviceID, "names the device to revoke")
	require.Contains(t, eb.Error.Hint, "thu hồi thiết bị cũ")
	require.Contains(t, eb.Error.HintEN, "revoke the old device")

	require.NoError(t, ts.Admin.RevokeDevice(ctx, dev.Enroll.DeviceID))
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, dev.Replica, "máy cũ")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%+v", eb)
	require.NotEqual(t, dev.Enroll.DeviceID, er.DeviceID)
	_, status, eb, err = servertest.Dial(ctx, ts.URL, dev.Token)
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, status, "the old token stays revoked")
	require.Equal(t, syncproto.CodeTokenRevoked, eb.Error.Code)
	again := ts.Connect(t, servertest.Device{Replica: dev.Replica, Token: er.Token, Enroll: er})
	require.Equal(t, uint64(2), again.Welcome.PushedSeq, "PushedSeq is the replica's: it carries on")
	devs, err := ts.Admin.ListDevicesBy(ctx, server.DeviceFilter{TeamID: ts.TeamA})
	require.NoError(t, err)
	require.Equal(t, dev.Enroll.DeviceID, devs[len(devs)-1].Replaces)
	again.Close()

	require.NoError(t, ts.Admin.RevokeDevice(ctx, er.DeviceID))
	_, status, eb, err = servertest.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamB), dev.Replica, "máy cũ")
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, syncproto.CodeReplicaTeam, eb.Error.Code)
	require.Contains(t, eb.Error.Hint, "tổ")
}

// Restoring: the token works again; unknown, not revoked, and a replica
// active on another device are refused, each with its own error.
func TestRestoreDevice(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	dev := ts.NewDevice(t, ts.TeamA)
	a := ts.Admin

	_, err := a.RestoreDevice(ctx, "no-such-device")
	require.ErrorIs(t, err, server.ErrNotFound)
	_, err = a.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.ErrorIs(t, err, server.ErrNotRevoked)

	require.NoError(t, a.RevokeDevice(ctx, dev.Enroll.DeviceID))
	_, status, _, err := servertest.Dial(ctx, ts.URL, dev.Token)
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, status)
	_, err = a.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.NoError(t, err)
	ts.Connect(t, dev).Close() // the old token syncs again

	require.NoError(t, a.RevokeDevice(ctx, dev.Enroll.DeviceID))
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), dev.Replica, "máy")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%+v", eb)
	_, err = a.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.ErrorIs(t, err, server.ErrReplicaActive)
	var re *server.ReplicaError
	require.ErrorAs(t, err, &re)
	require.Equal(t, er.DeviceID, re.DeviceID)

	// Both revoked: the laptop holds the newer token, so that is the one
	// to restore.
	require.NoError(t, a.RevokeDevice(ctx, er.DeviceID))
	_, err = a.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.ErrorIs(t, err, server.ErrReplaced)
	require.ErrorAs(t, err, &re)
	require.Equal(t, er.DeviceID, re.DeviceID)
	_, err = a.RestoreDevice(ctx, er.DeviceID)
	require.NoError(t, err)
}

package pgstore_test

import (
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Two server processes on one database: a device revoked through B is cut
// at its next message on A (the periodic check is off), re-enrolls its
// replica through B, and its restore through A lets the old token in again
// only once the new device is revoked.
func TestRevokeAcrossProcesses(t *testing.T) {
	a, b, _ := twoServers(t, func(c *server.Config) { c.RevokeCheck = -1 })
	dev := a.NewDevice(t, a.TeamA)
	ca := a.Connect(t, dev)
	require.NoError(t, b.Admin.RevokeDevice(ctx, dev.Enroll.DeviceID))
	ca.Timeout = 5 * time.Second
	_, err := ca.Pull(0, 10)
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})

	er, status, eb, err := servertest.Enroll(ctx, b.URL, b.EnrollCode(t, b.TeamA), dev.Replica, "máy")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%+v", eb)
	_, err = a.Admin.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.ErrorIs(t, err, server.ErrReplicaActive)
	require.NoError(t, a.Admin.RevokeDevice(ctx, er.DeviceID))
	_, err = a.Admin.RestoreDevice(ctx, dev.Enroll.DeviceID)
	require.NoError(t, err)
	b.Connect(t, dev).Close()
}

// The unique index devices_replica_active refuses a second active device of
// one replica whatever the code path (the stores check first; this is the
// backstop).
func TestOneActiveDevicePerReplicaIndex(t *testing.T) {
	a, _, url := twoServers(t, nil)
	dev := a.NewDevice(t, a.TeamA)
	require.NoError(t, a.Admin.RevokeDevice(ctx, dev.Enroll.DeviceID))
	_, status, _, err := servertest.Enroll(ctx, a.URL, a.EnrollCode(t, a.TeamA), dev.Replica, "máy")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	db, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer db.Close(ctx)
	_, err = db.Exec(ctx, `UPDATE devices SET revoked_ms = NULL WHERE id = $1`, dev.Enroll.DeviceID)
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "23505", pe.Code)
	require.Equal(t, "devices_replica_active", pe.ConstraintName)
}

package pgstore_test

import (
	"net/http"

	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Two server processes on one database: a device revoked through B is cut
// at its next message on A (the periodic check is off) and re-enrolls its
// replica through B; A sees the new device when asked to restore the old
// one, and restores the new one once it too was revoked.
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
	require.ErrorIs(t, err, server.ErrReplaced, "the laptop holds the newer token")
	_, err = a.Admin.RestoreDevice(ctx, er.DeviceID)
	require.NoError(t, err)
	b.Connect(t, servertest.Device{Replica: dev.Replica, Token: er.Token, Enroll: er}).Close()
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

// 0004_devices revokes the older active devices of a replica enrolled twice
// (server/sqlitestore/devices_migration_test.go has the SQLite case and the reasons).
func TestDevicesMigrationRevokesDuplicateActiveDevices(t *testing.T) {
	db := pgtest.OpenDB(t)
	// The data model first, as the store does (0011 sets triggers on its
	// admin_units).
	schemaMigs, err := pgstore.SchemaMigrations()
	require.NoError(t, err)
	require.NoError(t, migrate.Apply(ctx, db, pgstore.SchemaSet, schemaMigs))
	migs, err := pgstore.ServerMigrations()
	require.NoError(t, err)
	var upTo3 []migration.Migration
	for _, m := range migs {
		if m.Version < 4 {
			upTo3 = append(upTo3, m)
		}
	}
	require.NoError(t, migrate.Apply(ctx, db, sqlitestore.MigrationSet, upTo3))
	for _, r := range [][4]any{
		{"d1", []byte("replica-r-000001"), int64(1000), nil},
		{"d2", []byte("replica-r-000001"), int64(2000), nil},
		{"d3", []byte("replica-r-000001"), int64(3000), nil},
		{"d0", []byte("replica-r-000001"), int64(500), int64(600)},
		{"e1", []byte("replica-s-000001"), int64(1500), nil},
	} {
		_, err := db.Exec(`INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, revoked_ms) VALUES ($1, 'm', $2, 'l', 'c', $3, $4, $5)`,
			r[0], r[1], []byte(r[0].(string)), r[2], r[3])
		require.NoError(t, err)
	}
	require.NoError(t, migrate.Apply(ctx, db, sqlitestore.MigrationSet, migs))
	for id, want := range map[string]any{"d1": int64(2000), "d2": int64(3000), "d3": nil, "d0": int64(600), "e1": nil} {
		var got *int64
		require.NoError(t, db.QueryRow(`SELECT revoked_ms FROM devices WHERE id = $1`, id).Scan(&got))
		if want == nil {
			require.Nil(t, got, id)
		} else {
			require.NotNil(t, got, id)
			require.Equal(t, want, *got, id)
		}
	}
}

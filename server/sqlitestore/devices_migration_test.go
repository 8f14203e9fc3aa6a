package sqlitestore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// devicesMigrationCase is the data 0004_devices migrates: before it a
// replica could be enrolled twice with both tokens active. The agent keeps
// only its newest token, so each older device of such a replica is revoked
// at the time the next one was enrolled; other devices are untouched.
// (server/pgstore/devices_test.go has the same case for PostgreSQL.)
var devicesMigrationCase = struct {
	Rows [][4]any
	Want map[string]any // revoked_ms after the migration, nil: active
}{
	Rows: [][4]any{
		{"d1", []byte("replica-r-000001"), int64(1000), nil},
		{"d2", []byte("replica-r-000001"), int64(2000), nil},
		{"d3", []byte("replica-r-000001"), int64(3000), nil},
		{"d0", []byte("replica-r-000001"), int64(500), int64(600)},
		{"e1", []byte("replica-s-000001"), int64(1500), nil},
	},
	Want: map[string]any{"d1": int64(2000), "d2": int64(3000), "d3": nil, "d0": int64(600), "e1": nil},
}

func TestDevicesMigrationRevokesDuplicateActiveDevices(t *testing.T) {
	ctx := context.Background()
	db := migratetest.OpenSQLite(t)
	// The store applies the data model's set first (the server's 0011
	// rebuilds its row tables).
	require.NoError(t, migrate.Apply(ctx, db, schema.MigrationSet, schema.SQLiteMigrations()))
	migs, err := sqlitestore.ServerMigrations()
	require.NoError(t, err)
	var upTo3 []migration.Migration
	for _, m := range migs {
		if m.Version < 4 {
			upTo3 = append(upTo3, m)
		}
	}
	require.NoError(t, migrate.Apply(ctx, db, sqlitestore.MigrationSet, upTo3))
	for _, r := range devicesMigrationCase.Rows {
		_, err := db.Exec(`INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, revoked_ms) VALUES (?, 'm', ?, 'l', 'c', ?, ?, ?)`,
			r[0], r[1], []byte(r[0].(string)), r[2], r[3])
		require.NoError(t, err)
	}
	require.NoError(t, migrate.Apply(ctx, db, sqlitestore.MigrationSet, migs))
	for id, want := range devicesMigrationCase.Want {
		var got sql.NullInt64
		require.NoError(t, db.QueryRow(`SELECT revoked_ms FROM devices WHERE id = ?`, id).Scan(&got))
		if want == nil {
			require.False(t, got.Valid, id)
		} else {
			require.Equal(t, want, got.Int64, id)
		}
	}
}

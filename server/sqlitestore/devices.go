package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

// SQLite's DeviceStore (devices.go).

var _ server.DeviceStore = (*Store)(nil)

// isReplicaActive: the unique index devices_replica_active refused a
// second active device of one replica.
func isReplicaActive(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: devices.replica_id")
}

// replicaActive is the answer to a write isReplicaActive refused.
func replicaActive(err error) error {
	if isReplicaActive(err) {
		return &server.ReplicaError{Kind: server.ErrReplicaActive}
	}
	return err
}

func (s *Store) DeviceByID(ctx context.Context, id string) (server.Device, error) {
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("look up device %s: %w", id, err)
	}
	return d, nil
}

func (s *Store) DevicesBy(ctx context.Context, f server.DeviceFilter) ([]server.Device, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
		WHERE (?1 = '' OR d.member_id = ?1) AND (?2 = '' OR m.team_id = ?2) ORDER BY d.created_ms, d.id`, f.MemberID, f.TeamID)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []server.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) Codes(ctx context.Context, f server.DeviceFilter) ([]server.CodeInfo, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT c.member_id, m.team_id, c.created_ms, c.expires_ms, c.used_ms, COALESCE(c.device_id, '')
		FROM enroll_codes c JOIN members m ON m.id = c.member_id
		WHERE (?1 = '' OR c.member_id = ?1) AND (?2 = '' OR m.team_id = ?2) ORDER BY c.created_ms, c.hash`, f.MemberID, f.TeamID)
	if err != nil {
		return nil, fmt.Errorf("list codes: %w", err)
	}
	defer rows.Close()
	var out []server.CodeInfo
	for rows.Next() {
		var c server.CodeInfo
		var created, expires int64
		var used sql.NullInt64
		if err := rows.Scan(&c.MemberID, &c.TeamID, &created, &expires, &used, &c.DeviceID); err != nil {
			return nil, fmt.Errorf("list codes: %w", err)
		}
		c.Created, c.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
		if used.Valid {
			t := time.UnixMilli(used.Int64).UTC()
			c.Used = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// readStmt is a statement on the read pool, prepared at first use: the
// revocation check runs before every Push and Pull, and preparing it each
// time would cost more than running it.
type readStmt struct {
	once sync.Once
	st   *sql.Stmt
	err  error
}

func (r *readStmt) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	r.once.Do(func() { r.st, r.err = db.PrepareContext(context.WithoutCancel(ctx), q) })
	return r.st, r.err
}

func (s *Store) DeviceRevoked(ctx context.Context, id string) (bool, error) {
	st, err := s.revoked.get(ctx, s.rdb, `SELECT revoked_ms IS NOT NULL FROM devices WHERE id = ?`)
	if err != nil {
		return false, fmt.Errorf("check device %s: %w", id, err)
	}
	var revoked bool
	err = st.QueryRowContext(ctx, id).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("check device %s: %w", id, err)
	}
	return revoked, nil
}

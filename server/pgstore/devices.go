package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hamlet-vn/hamlet/server"
)

// PostgreSQL's server.DeviceStore (server/devices.go).

var _ server.DeviceStore = (*Store)(nil)

// enrollKey is the advisory lock that serialises enrollments and restores
// of one replica across processes: the second reads what the first wrote.
// The unique index devices_replica_active backs it (isReplicaActive).
func enrollKey(r [16]byte) int64 { return lockKey([]byte("enroll-replica"), r[:]) }

func isReplicaActive(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "devices_replica_active"
}

// replicaActive is the answer to a write isReplicaActive refused.
func replicaActive(err error) error {
	if isReplicaActive(err) {
		return &server.ReplicaError{Kind: server.ErrReplicaActive}
	}
	return err
}

func (s *Store) DeviceByID(ctx context.Context, id string) (server.Device, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return server.Device{}, fmt.Errorf("look up device %s: %w", id, err)
	}
	defer s.release(conn)
	d, err := scanDevice(conn.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("look up device %s: %w", id, err)
	}
	return d, nil
}

func (s *Store) DevicesBy(ctx context.Context, f server.DeviceFilter) ([]server.Device, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
		WHERE ($1 = '' OR d.member_id = $1) AND ($2 = '' OR m.team_id = $2) ORDER BY d.created_ms, d.id`, f.MemberID, f.TeamID)
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
	rows, err := s.pool.Query(ctx, `SELECT c.member_id, m.team_id, c.created_ms, c.expires_ms, c.used_ms, COALESCE(c.device_id, '')
		FROM enroll_codes c JOIN members m ON m.id = c.member_id
		WHERE ($1 = '' OR c.member_id = $1) AND ($2 = '' OR m.team_id = $2) ORDER BY c.created_ms, c.hash`, f.MemberID, f.TeamID)
	if err != nil {
		return nil, fmt.Errorf("list codes: %w", err)
	}
	defer rows.Close()
	var out []server.CodeInfo
	for rows.Next() {
		var c server.CodeInfo
		var created, expires int64
		var used *int64
		if err := rows.Scan(&c.MemberID, &c.TeamID, &created, &expires, &used, &c.DeviceID); err != nil {
			return nil, fmt.Errorf("list codes: %w", err)
		}
		c.Created, c.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
		if used != nil {
			t := time.UnixMilli(*used).UTC()
			c.Used = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) DeviceRevoked(ctx context.Context, id string) (bool, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("check device %s: %w", id, err)
	}
	defer s.release(conn)
	var revoked bool
	err = conn.QueryRow(ctx, `SELECT revoked_ms IS NOT NULL FROM devices WHERE id = $1`, id).Scan(&revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("check device %s: %w", id, err)
	}
	return revoked, nil
}

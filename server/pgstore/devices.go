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

// reenroll applies server.Reenroll to the replica's earlier devices inside
// the Enroll transaction, under the replica's enrollKey.
func (w *pgTx) reenroll(d *server.Device, m server.Member) error {
	if err := w.lock(enrollKey(d.Replica)); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	rows, err := w.tx.Query(w.ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.replica_id = $1`, d.Replica[:])
	if err != nil {
		return fmt.Errorf("enroll: read the replica's devices: %w", err)
	}
	var prev []server.Device
	for rows.Next() {
		p, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("enroll: read the replica's devices: %w", err)
		}
		prev = append(prev, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("enroll: read the replica's devices: %w", err)
	}
	rep, err := server.Reenroll(prev, m)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if rep != nil {
		d.Replaces, d.Cursor = rep.ID, rep.Cursor
	}
	return nil
}

func isReplicaActive(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "devices_replica_active"
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

func (s *Store) RestoreDevice(ctx context.Context, id string) (server.Device, error) {
	var d server.Device
	err := s.write(ctx, func(w *pgTx) error {
		var err error
		d, err = scanDevice(w.tx.QueryRow(w.ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = $1 FOR UPDATE OF d`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return server.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read device: %w", err)
		}
		if d.Revoked == nil {
			return server.ErrNotRevoked
		}
		if err := w.lock(enrollKey(d.Replica)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		var other string
		switch err := w.tx.QueryRow(w.ctx, `SELECT id FROM devices WHERE replica_id = $1 AND revoked_ms IS NULL AND id <> $2`, d.Replica[:], id).Scan(&other); {
		case err == nil:
			return &server.ReplicaError{Kind: server.ErrReplicaActive, DeviceID: other}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read the replica's devices: %w", err)
		}
		if _, err := w.tx.Exec(w.ctx, `UPDATE devices SET revoked_ms = NULL WHERE id = $1`, id); err != nil {
			if isReplicaActive(err) {
				return &server.ReplicaError{Kind: server.ErrReplicaActive}
			}
			return fmt.Errorf("restore: %w", err)
		}
		d.Revoked = nil
		return nil
	})
	return d, err
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

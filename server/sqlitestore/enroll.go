package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Enrollment's primitives (server.DeviceTx): the policy is server.Enroll's,
// ForkDevice's and RestoreDevice's. The writer is one transaction at a
// time, so nothing here needs a lock.

var _ server.DeviceTx = (*writeTx)(nil)

func (w *writeTx) Code(hash []byte) (server.CodeInfo, error) {
	row, err := w.queryRow(`SELECT member_id, expires_ms, used_ms, COALESCE(device_id, '') FROM enroll_codes WHERE hash = ?`, hash)
	if err != nil {
		return server.CodeInfo{}, err
	}
	var c server.CodeInfo
	var expires int64
	var used sql.NullInt64
	if err := row.Scan(&c.MemberID, &expires, &used, &c.DeviceID); errors.Is(err, sql.ErrNoRows) {
		return c, server.ErrNotFound
	} else if err != nil {
		return c, err
	}
	c.Expires = time.UnixMilli(expires).UTC()
	if used.Valid {
		t := time.UnixMilli(used.Int64).UTC()
		c.Used = &t
	}
	return c, nil
}

func (w *writeTx) UseCode(hash []byte, at time.Time, deviceID string) error {
	_, err := w.exec(`UPDATE enroll_codes SET used_ms = ?, device_id = ? WHERE hash = ?`, at.UnixMilli(), deviceID, hash)
	return err
}

func (w *writeTx) Device(id string) (server.Device, error) {
	row, err := w.queryRow(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = ?`, id)
	if err != nil {
		return server.Device{}, err
	}
	d, err := scanDevice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	return d, err
}

func (w *writeTx) ReplicaDevices(r syncproto.ReplicaID) ([]server.Device, error) {
	return w.devices(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.replica_id = ?`, r[:])
}

func (w *writeTx) ForkedDevice(r syncproto.ReplicaID, from string) (server.Device, bool, error) {
	ds, err := w.devices(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
		JOIN device_forks f ON f.device_id = d.id WHERE d.replica_id = ? AND f.forked_from = ? AND d.revoked_ms IS NULL`, r[:], from)
	if err != nil || len(ds) == 0 {
		return server.Device{}, false, err
	}
	return ds[0], true, nil
}

func (w *writeTx) devices(q string, args ...any) ([]server.Device, error) {
	rows, err := w.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []server.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (w *writeTx) AddDevice(d server.Device) error {
	_, err := w.exec(`INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, cursor, replaces_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))`,
		d.ID, d.MemberID, d.Replica[:], d.Label, d.Client, d.TokenHash, d.Created.UnixMilli(), int64(d.Cursor), d.Replaces)
	return replicaActive(err)
}

func (w *writeTx) SetToken(id string, tokenHash []byte, label, client string) error {
	_, err := w.exec(`UPDATE devices SET token_hash = ?, label = ?, client = ? WHERE id = ?`, tokenHash, label, client, id)
	return err
}

func (w *writeTx) Unrevoke(id string) error {
	_, err := w.exec(`UPDATE devices SET revoked_ms = NULL WHERE id = ?`, id)
	return replicaActive(err)
}

func (w *writeTx) AddFork(id, from string, at time.Time) error {
	_, err := w.exec(`INSERT INTO device_forks (device_id, forked_from, created_ms) VALUES (?, ?, ?)`, id, from, at.UnixMilli())
	return err
}

func (w *writeTx) Member(id string) (server.Member, error) {
	row, err := w.queryRow(`SELECT id, team_id, name, role, COALESCE(phone, '') FROM members WHERE id = ?`, id)
	if err != nil {
		return server.Member{}, err
	}
	var m server.Member
	if err := row.Scan(&m.ID, &m.TeamID, &m.Name, &m.Role, &m.Phone); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return m, fmt.Errorf("member %s: %w", id, server.ErrNotFound)
		}
		return m, fmt.Errorf("member %s: %w", id, err)
	}
	return m, nil
}

func (w *writeTx) Team(id string) (server.Team, error) {
	row, err := w.queryRow(`SELECT id, commune_code, name FROM teams WHERE id = ?`, id)
	if err != nil {
		return server.Team{}, err
	}
	var t server.Team
	if err := row.Scan(&t.ID, &t.CommuneCode, &t.Name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return t, fmt.Errorf("team %s: %w", id, server.ErrNotFound)
		}
		return t, fmt.Errorf("team %s: %w", id, err)
	}
	rows, err := w.query(`SELECT hamlet_code FROM team_hamlets WHERE team_id = ? ORDER BY hamlet_code`, id)
	if err != nil {
		return t, fmt.Errorf("team %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return t, fmt.Errorf("team %s: %w", id, err)
		}
		t.Hamlets = append(t.Hamlets, h)
	}
	return t, rows.Err()
}

// ForkParents follows device_forks from every device of r to the device
// whose folder was copied, and on from that device's replica.
func (w *writeTx) ForkParents(r syncproto.ReplicaID) ([]syncproto.ReplicaID, error) {
	rows, err := w.query(`WITH RECURSIVE up(rep) AS (
			SELECT CAST(? AS BLOB)
			UNION
			SELECT p.replica_id FROM up
				JOIN devices d ON d.replica_id = up.rep
				JOIN device_forks f ON f.device_id = d.id
				JOIN devices p ON p.id = f.forked_from
		)
		SELECT rep FROM up WHERE rep <> ?`, r[:], r[:])
	if err != nil {
		return nil, fmt.Errorf("read the replicas %s forked from: %w", r, err)
	}
	defer rows.Close()
	var out []syncproto.ReplicaID
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read the replicas %s forked from: %w", r, err)
		}
		var p syncproto.ReplicaID
		copy(p[:], b)
		out = append(out, p)
	}
	return out, rows.Err()
}

package pgstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Enrollment's primitives (server.DeviceTx): the policy is server.Enroll's,
// ForkDevice's and RestoreDevice's. Processes sharing the database take
// turns on a code (its row, FOR UPDATE), a device (its row) and a replica
// (its enrollKey), so two enrollments of one replica never both see it
// free; the unique index devices_replica_active backs them.

var _ server.DeviceTx = (*pgTx)(nil)

func (w *pgTx) Code(hash []byte) (server.CodeInfo, error) {
	var c server.CodeInfo
	var expires int64
	var used *int64
	err := w.tx.QueryRow(w.ctx, `SELECT member_id, expires_ms, used_ms, COALESCE(device_id, '') FROM enroll_codes WHERE hash = $1 FOR UPDATE`, hash).
		Scan(&c.MemberID, &expires, &used, &c.DeviceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, server.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Expires = time.UnixMilli(expires).UTC()
	if used != nil {
		t := time.UnixMilli(*used).UTC()
		c.Used = &t
	}
	return c, nil
}

func (w *pgTx) UseCode(hash []byte, at time.Time, deviceID string) error {
	_, err := w.tx.Exec(w.ctx, `UPDATE enroll_codes SET used_ms = $1, device_id = $2 WHERE hash = $3`, at.UnixMilli(), deviceID, hash)
	return err
}

func (w *pgTx) Device(id string) (server.Device, error) {
	d, err := scanDevice(w.tx.QueryRow(w.ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = $1 FOR UPDATE OF d`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("device %s: %w", id, server.ErrNotFound)
	}
	return d, err
}

// ReplicaDevices takes the replica's enrollKey first: the enrollment or
// restore of the same replica in another process waits for this one.
func (w *pgTx) ReplicaDevices(r syncproto.ReplicaID) ([]server.Device, error) {
	if err := w.lock(enrollKey(r)); err != nil {
		return nil, err
	}
	return w.devices(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.replica_id = $1`, r[:])
}

func (w *pgTx) ForkedDevice(r syncproto.ReplicaID, from string) (server.Device, bool, error) {
	ds, err := w.devices(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
		JOIN device_forks f ON f.device_id = d.id WHERE d.replica_id = $1 AND f.forked_from = $2 AND d.revoked_ms IS NULL`, r[:], from)
	if err != nil || len(ds) == 0 {
		return server.Device{}, false, err
	}
	return ds[0], true, nil
}

func (w *pgTx) devices(q string, args ...any) ([]server.Device, error) {
	rows, err := w.tx.Query(w.ctx, q, args...)
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

func (w *pgTx) AddDevice(d server.Device) error {
	_, err := w.tx.Exec(w.ctx, `INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, cursor, replaces_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''))`,
		d.ID, d.MemberID, d.Replica[:], d.Label, d.Client, d.TokenHash, d.Created.UnixMilli(), int64(d.Cursor), d.Replaces)
	return replicaActive(err)
}

func (w *pgTx) SetToken(id string, tokenHash []byte, label, client string) error {
	_, err := w.tx.Exec(w.ctx, `UPDATE devices SET token_hash = $1, label = $2, client = $3 WHERE id = $4`, tokenHash, label, client, id)
	return err
}

func (w *pgTx) Unrevoke(id string) error {
	_, err := w.tx.Exec(w.ctx, `UPDATE devices SET revoked_ms = NULL WHERE id = $1`, id)
	return replicaActive(err)
}

// AddFork is queued: it travels with the transaction's next statement or
// its COMMIT (txconn.go).
func (w *pgTx) AddFork(id, from string, at time.Time) error {
	w.tx.queue("fork", `INSERT INTO device_forks (device_id, forked_from, created_ms) VALUES ($1, $2, $3)`, id, from, at.UnixMilli())
	return nil
}

func (w *pgTx) Member(id string) (server.Member, error) { return member1(w.ctx, w.tx, id) }
func (w *pgTx) Team(id string) (server.Team, error)     { return team1(w.ctx, w.tx, id) }

// ForkParents follows device_forks from every device of r to the device
// whose folder was copied, and on from that device's replica.
func (w *pgTx) ForkParents(r syncproto.ReplicaID) ([]syncproto.ReplicaID, error) {
	rows, err := w.tx.Query(w.ctx, `WITH RECURSIVE up(rep) AS (
			SELECT $1::bytea
			UNION
			SELECT p.replica_id FROM up
				JOIN devices d ON d.replica_id = up.rep
				JOIN device_forks f ON f.device_id = d.id
				JOIN devices p ON p.id = f.forked_from
		)
		SELECT rep FROM up WHERE rep <> $1`, r[:])
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

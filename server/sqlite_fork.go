package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// SQLite's DigestTx (fork.go).

var _ DigestTx = (*sqliteTx)(nil)

const digestCols = 3

func (w *sqliteTx) AddDigests(origin syncproto.ReplicaID, ds []Digest) error {
	o, err := w.idx(origin, true)
	if err != nil {
		return err
	}
	args := make([]any, 0, digestCols*min(len(ds), chunkSizes[0]))
	return chunks(len(ds), chunkSizes[0], func(i, j int) error {
		q := w.s.query(qkey{"digests", "", j - i}, func() string {
			// A server restored from a backup takes a sequence again: the
			// newer change's digest replaces the forgotten one's.
			return `INSERT INTO sync_digests (origin, seq, digest) VALUES ` + placeholders(j-i, digestCols) +
				` ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest`
		})
		args = args[:0]
		for _, d := range ds[i:j] {
			args = append(args, o, int64(d.Seq), int64(d.Digest))
		}
		if _, err := w.exec(q, args...); err != nil {
			return fmt.Errorf("store change digests: %w", err)
		}
		return nil
	})
}

func (w *sqliteTx) Digests(origin syncproto.ReplicaID, from, to uint64) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	o, err := w.idx(origin, false)
	if err != nil || o < 0 || from > to {
		return out, err
	}
	rows, err := w.query(`SELECT seq, digest FROM sync_digests WHERE origin = ? AND seq BETWEEN ? AND ?`, o, int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read change digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, d int64
		if err := rows.Scan(&seq, &d); err != nil {
			return nil, fmt.Errorf("read change digests: %w", err)
		}
		out[uint64(seq)] = uint64(d)
	}
	return out, rows.Err()
}

var _ ForkStore = (*sqliteStore)(nil)

func (s *sqliteStore) ForkDevice(ctx context.Context, from Device, d Device, startSeq uint64) (Enrollment, error) {
	var out Enrollment
	err := s.write(ctx, func(w *sqliteTx) error {
		var revoked sql.NullInt64
		row, err := w.queryRow(`SELECT revoked_ms FROM devices WHERE id = ?`, from.ID)
		if err != nil {
			return err
		}
		if err := row.Scan(&revoked); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("fork: read the device: %w", err)
		}
		if revoked.Valid {
			return ErrRevoked
		}
		m, err := w.member(from.MemberID)
		if err != nil {
			return err
		}
		t, err := w.team(m.TeamID)
		if err != nil {
			return err
		}
		// Asked again: the device this one forked for that replica.
		row, err = w.queryRow(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
			JOIN device_forks f ON f.device_id = d.id WHERE d.replica_id = ? AND f.forked_from = ? AND d.revoked_ms IS NULL`, d.Replica[:], from.ID)
		if err != nil {
			return err
		}
		prev, err := scanDevice(row)
		switch {
		case err == nil:
			if _, err := w.exec(`UPDATE devices SET token_hash = ?, label = ?, client = ? WHERE id = ?`, d.TokenHash, d.Label, d.Client, prev.ID); err != nil {
				return fmt.Errorf("fork: replace the device's token: %w", err)
			}
			prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
			out = Enrollment{Device: prev, Member: m, Team: t, Again: true}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("fork: read the forked device: %w", err)
		}
		row, err = w.queryRow(`SELECT id FROM devices WHERE replica_id = ? LIMIT 1`, d.Replica[:])
		if err != nil {
			return err
		}
		var other string
		if err := row.Scan(&other); err == nil {
			return &ReplicaError{Kind: ErrReplicaActive, DeviceID: other}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("fork: read the replica's devices: %w", err)
		}
		if seq, err := w.OriginSeq(d.Replica); err != nil {
			return err
		} else if seq > 0 {
			return &ReplicaError{Kind: ErrReplicaActive}
		}
		d.MemberID, d.TeamID, d.Cursor, d.Replaces = m.ID, m.TeamID, 0, ""
		if _, err := w.exec(`INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, cursor) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
			d.ID, d.MemberID, d.Replica[:], d.Label, d.Client, d.TokenHash, d.Created.UnixMilli()); err != nil {
			if isReplicaActive(err) {
				return &ReplicaError{Kind: ErrReplicaActive}
			}
			return fmt.Errorf("fork: store device: %w", err)
		}
		if _, err := w.exec(`INSERT INTO device_forks (device_id, forked_from, created_ms) VALUES (?, ?, ?)`, d.ID, from.ID, d.Created.UnixMilli()); err != nil {
			return fmt.Errorf("fork: %w", err)
		}
		if startSeq > 0 {
			if err := w.SetOriginSeq(d.Replica, startSeq); err != nil {
				return err
			}
		}
		out = Enrollment{Device: d, Member: m, Team: t}
		return nil
	})
	return out, err
}

// collectDigests keeps each replica's newest DigestWindow digests.
func (w *sqliteTx) collectDigests(st *GCStats) error {
	res, err := w.exec(`DELETE FROM sync_digests WHERE seq <= (SELECT r.max_seq FROM replicas r WHERE r.idx = sync_digests.origin) - ?`, DigestWindow)
	if err != nil {
		return fmt.Errorf("gc: digests: %w", err)
	}
	n, _ := res.RowsAffected()
	st.Digests = int(n)
	return nil
}

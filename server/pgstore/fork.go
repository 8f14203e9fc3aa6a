package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// PostgreSQL's server.DigestTx (server/fork.go).

var _ server.DigestTx = (*pgTx)(nil)

// AddDigests queues the insert: it travels with the transaction's next
// statement or its COMMIT, and a later Digests reads it (txconn.go).
func (w *pgTx) AddDigests(origin syncproto.ReplicaID, ds []server.Digest) error {
	o, err := w.idx(origin, true)
	if err != nil {
		return err
	}
	seqs, digests := make([]int64, len(ds)), make([]int64, len(ds))
	for i, d := range ds {
		seqs[i], digests[i] = int64(d.Seq), int64(d.Digest)
	}
	// A server restored from a backup takes a sequence again: the newer
	// change's digest replaces the forgotten one's.
	w.tx.queue("store change digests", `INSERT INTO sync_digests (origin, seq, digest)
		SELECT $1::int8, v.seq, v.digest FROM unnest($2::int8[], $3::int8[]) AS v(seq, digest)
		ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest`, o, seqs, digests)
	return nil
}

func (w *pgTx) Digests(origin syncproto.ReplicaID, from, to uint64) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	o, err := w.idx(origin, false)
	if err != nil || o < 0 || from > to {
		return out, err
	}
	rows, err := w.tx.Query(w.ctx, `SELECT seq, digest FROM sync_digests WHERE origin = $1 AND seq BETWEEN $2 AND $3`, o, int64(from), int64(to))
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read change digests: %w", err)
	}
	return out, nil
}

var _ server.ForkStore = (*Store)(nil)

// ForkDevice is the SQLite store's (server/sqlite_fork.go), under the new
// replica's enrollKey so that it takes turns with an enrollment of it.
func (s *Store) ForkDevice(ctx context.Context, from server.Device, d server.Device, startSeq uint64) (server.Enrollment, error) {
	var out server.Enrollment
	err := s.write(ctx, func(w *pgTx) error {
		var revoked *int64
		err := w.tx.QueryRow(w.ctx, `SELECT revoked_ms FROM devices WHERE id = $1 FOR UPDATE`, from.ID).Scan(&revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return server.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("fork: read the device: %w", err)
		}
		if revoked != nil {
			return server.ErrRevoked
		}
		if err := w.lock(enrollKey(d.Replica)); err != nil {
			return fmt.Errorf("fork: %w", err)
		}
		m, err := member1(w.ctx, w.tx, from.MemberID)
		if err != nil {
			return err
		}
		t, err := team1(w.ctx, w.tx, m.TeamID)
		if err != nil {
			return err
		}
		prev, err := scanDevice(w.tx.QueryRow(w.ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id
			JOIN device_forks f ON f.device_id = d.id WHERE d.replica_id = $1 AND f.forked_from = $2 AND d.revoked_ms IS NULL`, d.Replica[:], from.ID))
		switch {
		case err == nil:
			if _, err := w.tx.Exec(w.ctx, `UPDATE devices SET token_hash = $1, label = $2, client = $3 WHERE id = $4`, d.TokenHash, d.Label, d.Client, prev.ID); err != nil {
				return fmt.Errorf("fork: replace the device's token: %w", err)
			}
			prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
			out = server.Enrollment{Device: prev, Member: m, Team: t, Again: true}
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("fork: read the forked device: %w", err)
		}
		var other string
		switch err := w.tx.QueryRow(w.ctx, `SELECT id FROM devices WHERE replica_id = $1 LIMIT 1`, d.Replica[:]).Scan(&other); {
		case err == nil:
			return &server.ReplicaError{Kind: server.ErrReplicaActive, DeviceID: other}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("fork: read the replica's devices: %w", err)
		}
		if seq, err := w.OriginSeq(d.Replica); err != nil {
			return err
		} else if seq > 0 {
			return &server.ReplicaError{Kind: server.ErrReplicaActive}
		}
		d.MemberID, d.TeamID, d.Cursor, d.Replaces = m.ID, m.TeamID, 0, ""
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
			d.ID, d.MemberID, d.Replica[:], d.Label, d.Client, d.TokenHash, d.Created.UnixMilli()); err != nil {
			if isReplicaActive(err) {
				return &server.ReplicaError{Kind: server.ErrReplicaActive}
			}
			return fmt.Errorf("fork: store device: %w", err)
		}
		w.tx.queue("fork", `INSERT INTO device_forks (device_id, forked_from, created_ms) VALUES ($1, $2, $3)`, d.ID, from.ID, d.Created.UnixMilli())
		if startSeq > 0 {
			if err := w.SetOriginSeq(d.Replica, startSeq); err != nil {
				return err
			}
		}
		out = server.Enrollment{Device: d, Member: m, Team: t}
		return nil
	})
	return out, err
}

// collectDigests keeps each replica's newest DigestWindow digests.
func (w *pgTx) collectDigests(st *server.GCStats) error {
	tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_digests d USING replicas r WHERE r.idx = d.origin AND d.seq <= r.max_seq - $1`, int64(server.DigestWindow))
	if err != nil {
		return fmt.Errorf("gc: digests: %w", err)
	}
	st.Digests = int(tag.RowsAffected())
	return nil
}

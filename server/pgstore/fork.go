package pgstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// PostgreSQL's server.DigestTx (server/fork.go).

var _ server.DigestTx = (*pgTx)(nil)

// AddDigests queues the insert: it travels with the transaction's next
// statement or its COMMIT, and a later Digests reads it (txconn.go). Each
// digest goes with the stamp the change holds on the server
// (server.Digest.HLC; 0, from a caller that keeps none, is stored NULL).
func (w *pgTx) AddDigests(origin syncproto.ReplicaID, ds []server.Digest) error {
	o, err := w.idx(origin, true)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	seqs, digests, hlcs := make([]int64, 0, len(ds)), make([]int64, 0, len(ds)), make([]int64, 0, len(ds))
	for _, d := range ds {
		seqs, digests, hlcs = append(seqs, int64(d.Seq)), append(digests, int64(d.Digest)), append(hlcs, int64(d.HLC))
	}
	// A server restored from a backup takes a sequence again: the newer
	// change's digest and stamp replace the forgotten one's.
	w.tx.queue("store change digests", `INSERT INTO sync_digests (origin, seq, digest, hlc)
		SELECT $1::int8, v.seq, v.digest, NULLIF(v.hlc, 0) FROM unnest($2::int8[], $3::int8[], $4::int8[]) AS v(seq, digest, hlc)
		ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest, hlc = excluded.hlc`, o, seqs, digests, hlcs)
	return nil
}

func (w *pgTx) Digests(origin syncproto.ReplicaID, from, to uint64) (map[uint64]server.Digest, error) {
	out := map[uint64]server.Digest{}
	o, err := w.idx(origin, false)
	if err != nil || o < 0 || from > to {
		return out, err
	}
	rows, err := w.tx.Query(w.ctx, `SELECT seq, digest, coalesce(hlc, 0) FROM sync_digests WHERE origin = $1 AND seq BETWEEN $2 AND $3`, o, int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read change digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, d, h int64
		if err := rows.Scan(&seq, &d, &h); err != nil {
			return nil, fmt.Errorf("read change digests: %w", err)
		}
		out[uint64(seq)] = server.Digest{Seq: uint64(seq), Digest: uint64(d), HLC: syncproto.HLC(h)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read change digests: %w", err)
	}
	return out, nil
}

// DigestFloor implements server.DigestTx.
func (w *pgTx) DigestFloor(origin syncproto.ReplicaID) (uint64, error) {
	var floor int64
	err := w.tx.QueryRow(w.ctx, `SELECT f.seq FROM sync_digest_floor f JOIN replicas r ON r.idx = f.origin WHERE r.id = $1`, origin[:]).Scan(&floor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("read the digest floor: %w", err)
	}
	return uint64(max(floor, 0)), nil
}

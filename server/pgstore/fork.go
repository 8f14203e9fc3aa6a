package pgstore

import (
	"fmt"

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

package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// SQLite's DigestTx (fork.go).

var _ server.DigestTx = (*writeTx)(nil)

const digestCols = 4

// AddDigests writes a batch's digests, each with the stamp the change
// holds on the server (server.Digest.HLC; 0, from a caller that keeps
// none, is stored NULL as before), in chunks of rows.
func (w *writeTx) AddDigests(origin syncproto.ReplicaID, ds []server.Digest) error {
	o, err := w.idx(origin, true)
	if err != nil {
		return err
	}
	args := make([]any, 0, digestCols*min(len(ds), chunkSizes[0]))
	return chunks(len(ds), chunkSizes[0], func(i, j int) error {
		q := w.s.query(qkey{"digests", "", j - i}, func() string {
			// A server restored from a backup takes a sequence again: the
			// newer change's digest and stamp replace the forgotten one's.
			return `INSERT INTO sync_digests (origin, seq, digest, hlc) VALUES ` + placeholders(j-i, digestCols) +
				` ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest, hlc = excluded.hlc`
		})
		args = args[:0]
		for _, d := range ds[i:j] {
			var h any
			if d.HLC != 0 {
				h = int64(d.HLC)
			}
			args = append(args, o, int64(d.Seq), int64(d.Digest), h)
		}
		if _, err := w.exec(q, args...); err != nil {
			return fmt.Errorf("store change digests: %w", err)
		}
		return nil
	})
}

func (w *writeTx) Digests(origin syncproto.ReplicaID, from, to uint64) (map[uint64]server.Digest, error) {
	out := map[uint64]server.Digest{}
	o, err := w.idx(origin, false)
	if err != nil || o < 0 || from > to {
		return out, err
	}
	rows, err := w.query(`SELECT seq, digest, coalesce(hlc, 0) FROM sync_digests WHERE origin = ? AND seq BETWEEN ? AND ?`, o, int64(from), int64(to))
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
	return out, rows.Err()
}

// DigestFloor implements server.DigestTx.
func (w *writeTx) DigestFloor(origin syncproto.ReplicaID) (uint64, error) {
	row, err := w.queryRow(`SELECT f.seq FROM sync_digest_floor f JOIN replicas r ON r.idx = f.origin WHERE r.id = ?`, origin[:])
	if err != nil {
		return 0, err
	}
	var floor int64
	if err := row.Scan(&floor); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read the digest floor: %w", err)
	}
	return uint64(max(floor, 0)), nil
}

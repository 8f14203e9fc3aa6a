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

const digestCols = 3

// AddDigests writes a batch's digests with the statement it always wrote:
// the rare restamped change's (its stamp beside the digest) goes on its
// own, so the common batch binds nothing more than before.
func (w *writeTx) AddDigests(origin syncproto.ReplicaID, ds []server.Digest) error {
	o, err := w.idx(origin, true)
	if err != nil {
		return err
	}
	plain, restamped := splitRestamped(ds)
	args := make([]any, 0, digestCols*min(len(plain), chunkSizes[0]))
	if err := chunks(len(plain), chunkSizes[0], func(i, j int) error {
		q := w.s.query(qkey{"digests", "", j - i}, func() string {
			// A server restored from a backup takes a sequence again: the
			// newer change's digest replaces the forgotten one's.
			return `INSERT INTO sync_digests (origin, seq, digest) VALUES ` + placeholders(j-i, digestCols) +
				` ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest, hlc = NULL`
		})
		args = args[:0]
		for _, d := range plain[i:j] {
			args = append(args, o, int64(d.Seq), int64(d.Digest))
		}
		if _, err := w.exec(q, args...); err != nil {
			return fmt.Errorf("store change digests: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, d := range restamped {
		if _, err := w.exec(`INSERT INTO sync_digests (origin, seq, digest, hlc) VALUES (?, ?, ?, ?)
			ON CONFLICT (origin, seq) DO UPDATE SET digest = excluded.digest, hlc = excluded.hlc`,
			o, int64(d.Seq), int64(d.Digest), int64(d.HLC)); err != nil {
			return fmt.Errorf("store a restamped change's digest: %w", err)
		}
	}
	return nil
}

// splitRestamped parts ds into the digests of changes kept as pushed and
// of those the server restamped (rare: ds itself when there are none).
func splitRestamped(ds []server.Digest) (plain, restamped []server.Digest) {
	for i, d := range ds {
		if d.HLC != 0 {
			plain = append(plain, ds[:i]...)
			for _, d := range ds[i:] {
				if d.HLC != 0 {
					restamped = append(restamped, d)
				} else {
					plain = append(plain, d)
				}
			}
			return plain, restamped
		}
	}
	return ds, nil
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

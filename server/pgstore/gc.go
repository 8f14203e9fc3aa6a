package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Collection's primitives (server.GCTx): the policy is server.Collect's.

var _ server.GCTx = (*pgTx)(nil)

// Head is the committed head: collection does not append, so it takes no
// log lock.
func (w *pgTx) Head() (uint64, error) { return readHead(w.ctx, w.tx) }

func (w *pgTx) MinCursors(silentBefore time.Time, acked bool) (map[string]uint64, error) {
	lowest := 0
	if acked {
		lowest = 1
	}
	rows, err := w.tx.Query(w.ctx, `SELECT th.hamlet_code, MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		JOIN team_hamlets th ON th.team_id = m.team_id WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= $1 AND (d.last_seen_ms IS NOT NULL OR d.cursor > 0) AND d.cursor >= $2
		GROUP BY th.hamlet_code`, sqlread.SilentMs(silentBefore), lowest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var sc string
		var c int64
		if err := rows.Scan(&sc, &c); err != nil {
			return nil, err
		}
		out[sc] = uint64(c)
	}
	return out, rows.Err()
}

func (w *pgTx) Tombstones() ([]server.Tombstone, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT tbl, row, scope, tomb_seq FROM sync_rows WHERE deleted`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []server.Tombstone
	for rows.Next() {
		var d server.Tombstone
		var id []byte
		var tomb int64
		if err := rows.Scan(&d.Table, &id, &d.Scope, &tomb); err != nil {
			return nil, err
		}
		copy(d.Row[:], id)
		d.TombSeq = uint64(tomb)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DropTombstone drops the row under its row lock, taken only if free: a
// push holding the row now is left alone, and the row goes at the next
// collection. A row changed since it was listed is left too.
func (w *pgTx) DropTombstone(d server.Tombstone) (bool, int, error) {
	var ok bool
	if err := w.tx.QueryRow(w.ctx, `SELECT pg_try_advisory_xact_lock($1)`, rowKey(d.Table, d.Row)).Scan(&ok); err != nil || !ok {
		return false, 0, err
	}
	tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_rows WHERE tbl = $1 AND row = $2 AND deleted AND tomb_seq = $3`, d.Table, d.Row[:], int64(d.TombSeq))
	if err != nil || tag.RowsAffected() == 0 {
		return false, 0, err
	}
	tag, err = w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE scope = ANY($1::text[]) AND tbl = $2 AND row = $3`,
		append([]string{d.Scope}, d.MovedFrom...), d.Table, d.Row[:])
	if err != nil {
		return false, 0, err
	}
	n := tag.RowsAffected()
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO sync_collected (tbl, row) VALUES ($1, $2) ON CONFLICT DO NOTHING`, d.Table, d.Row[:]); err != nil {
		return false, 0, fmt.Errorf("keep the collected row's id: %w", err)
	}
	if _, err := w.tx.Exec(w.ctx, `DELETE FROM scope_moves WHERE row = $1 AND tbl = $2`, d.Row[:], d.Table); err != nil {
		return false, 0, fmt.Errorf("drop the collected row's scope moves: %w", err)
	}
	if t, ok := schema.LookupTable(d.Table); ok {
		if _, err := w.tx.Exec(w.ctx, `DELETE FROM `+t.Name+` WHERE id = $1`, d.Row.String()); err != nil {
			return false, 0, fmt.Errorf("drop %s row: %w", d.Table, err)
		}
	}
	return true, int(n), nil
}

func (w *pgTx) MovedFrom(r server.RowRef) ([]string, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT DISTINCT from_scope FROM scope_moves WHERE row = $1 AND tbl = $2 ORDER BY from_scope`, r.Row[:], r.Table)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (w *pgTx) TruncateLog(scope string, upTo uint64) (uint64, int, error) {
	var top *int64
	if err := w.tx.QueryRow(w.ctx, `SELECT max(seq) FROM sync_log WHERE scope = $1 AND seq <= $2`, scope, int64(upTo)).Scan(&top); err != nil || top == nil {
		return 0, 0, err
	}
	tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE scope = $1 AND seq <= $2`, scope, int64(upTo))
	if err != nil {
		return 0, 0, err
	}
	return uint64(*top), int(tag.RowsAffected()), nil
}

func (w *pgTx) RowScopes() ([]string, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT DISTINCT scope FROM sync_rows`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LoggedChanges reads the entries whole before resolving their origins: a
// lookup needs the connection the rows hold.
func (w *pgTx) LoggedChanges(scope string, upTo uint64) ([]server.LoggedChange, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT seq, tbl, row, field, origin, oseq FROM sync_log WHERE scope = $1 AND seq <= $2 AND kind = 0`, scope, int64(upTo))
	if err != nil {
		return nil, err
	}
	var out []server.LoggedChange
	var origins []int64
	for rows.Next() {
		var e server.LoggedChange
		var id []byte
		var seq, origin, oseq int64
		if err := rows.Scan(&seq, &e.Ref.Table, &id, &e.Field, &origin, &oseq); err != nil {
			rows.Close()
			return nil, err
		}
		copy(e.Ref.Row[:], id)
		e.Seq, e.Dot.Seq = uint64(seq), uint64(oseq)
		out, origins = append(out, e), append(origins, origin)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Dot.Replica, err = w.replica(origins[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Versions reads the row without its row lock: collection does not wait
// for pushes.
func (w *pgTx) Versions(r server.RowRef) (map[string]syncproto.Version, error) {
	tc := rowTables[r.Table]
	if tc == nil {
		return nil, fmt.Errorf("versions: unknown table %q", r.Table)
	}
	// One statement: the blob and the row table's values of one moment.
	var blob []byte
	vals := make([]any, len(tc.Cols))
	dst := []any{&blob}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	err := w.tx.QueryRow(w.ctx, `SELECT s.versions`+colList(", t.", tc.Cols)+` FROM sync_rows s LEFT JOIN `+r.Table+
		` t ON t.id = $3 WHERE s.tbl = $1 AND s.row = $2`, r.Table, r.Row[:], r.Row.String()).Scan(dst...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return versions.Decode(blob, w.replica, tc.Values(vals))
}

func (w *pgTx) DeleteEntries(seqs []uint64) error {
	ss := make([]int64, len(seqs))
	for i, s := range seqs {
		ss[i] = int64(s)
	}
	_, err := w.tx.Exec(w.ctx, `DELETE FROM sync_log WHERE seq = ANY($1::int8[])`, ss)
	return err
}

// KeepHead has nothing to do: sync_log_head keeps the head whatever is
// deleted (package doc, "The log").
func (w *pgTx) KeepHead(uint64) error { return nil }

func (w *pgTx) RaiseFloor(scope string, seq uint64) error {
	_, err := w.tx.Exec(w.ctx, `INSERT INTO sync_log_floor (scope, seq) VALUES ($1, $2)
		ON CONFLICT (scope) DO UPDATE SET seq = GREATEST(sync_log_floor.seq, excluded.seq)`, scope, int64(seq))
	return err
}

func (w *pgTx) CollectDigests(window int) (int, error) {
	// The floor first, and the digests by it: what is dropped is never
	// above the floor, whatever a push committed between the two.
	// In index order: two collections at once (serve and the CLI's gc)
	// lock the floor rows in the same order, so never each other.
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO sync_digest_floor (origin, seq) SELECT idx, max_seq - $1 FROM replicas WHERE max_seq > $1 ORDER BY idx
		ON CONFLICT (origin) DO UPDATE SET seq = GREATEST(sync_digest_floor.seq, excluded.seq)`, int64(window)); err != nil {
		return 0, err
	}
	tag, err := w.tx.Exec(w.ctx, `DELETE FROM sync_digests d USING sync_digest_floor f WHERE f.origin = d.origin AND d.seq <= f.seq`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// Horizon implements server.Store.Horizon.
func (s *Store) Horizon(ctx context.Context, scopes []string, silentBefore time.Time) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var h *int64
	err := s.pool.QueryRow(ctx, `SELECT min(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= $1 AND (d.last_seen_ms IS NOT NULL OR d.cursor > 0)
		AND m.team_id IN (SELECT th.team_id FROM team_hamlets th WHERE th.hamlet_code = ANY($2::text[]))`,
		sqlread.SilentMs(silentBefore), scopes).Scan(&h)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	if h == nil {
		return 0, nil
	}
	return uint64(*h), nil
}

// ForgetBases implements server.GCTx.ForgetBases. Collection takes no
// row's advisory lock and waits for no push: the blob is rewritten, with
// the row table values read in the same statement, only if it is still the
// one read and no other transaction holds the row (SKIP LOCKED; a push
// that saves the row later writes its own blob, bases and all).
func (w *pgTx) ForgetBases(r server.RowRef, dots map[string][]syncproto.Dot) (int, error) {
	tc := rowTables[r.Table]
	if tc == nil {
		return 0, fmt.Errorf("forget bases: unknown table %q", r.Table)
	}
	var blob []byte
	vals := make([]any, len(tc.Cols))
	dst := []any{&blob}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	err := w.tx.QueryRow(w.ctx, `SELECT s.versions`+colList(", t.", tc.Cols)+` FROM sync_rows s LEFT JOIN `+r.Table+
		` t ON t.id = $3 WHERE s.tbl = $1 AND s.row = $2`, r.Table, r.Row[:], r.Row.String()).Scan(dst...)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	cols := tc.Values(vals)
	vs, err := versions.Decode(blob, w.replica, cols)
	if err != nil {
		return 0, fmt.Errorf("row %s: %w", r.Row, err)
	}
	n := sqlread.ForgetBases(vs, dots)
	if n == 0 && versions.InTable(blob) {
		return 0, nil // nothing to clear, and already in the current format
	}
	nb, err := versions.Encode(nil, vs, func(id syncproto.ReplicaID) (int64, error) { return w.idx(id, true) }, cols)
	if err != nil {
		return 0, err
	}
	var one int
	err = w.tx.QueryRow(w.ctx, `SELECT 1 FROM sync_rows WHERE tbl = $1 AND row = $2 AND versions = $3 FOR UPDATE SKIP LOCKED`,
		r.Table, r.Row[:], blob).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := w.tx.Exec(w.ctx, `UPDATE sync_rows SET versions = $3 WHERE tbl = $1 AND row = $2`, r.Table, r.Row[:], nb); err != nil {
		return 0, err
	}
	return n, nil
}
